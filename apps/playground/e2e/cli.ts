import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the `shortv` CLI from source, as `pnpm shortv` does, and returns its exit code and output. The graphs
 * it compiles go to `cacheDir` (SHORTV_CACHE_DIR), never to the user's ~/.cache/shortv.
 */
export function shortv(args: readonly string[], cacheDir: string, timeoutMs = 180_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=@shortv/source', '--import', 'tsx', 'apps/cli/src/bin.ts', ...args],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, SHORTV_CACHE_DIR: cacheDir },
        timeout: timeoutMs,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
