import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { runCli } from '../src/index.ts';

let graphCache: string | undefined;

/**
 * Runs the CLI in-process and captures what it prints. Graphs it compiles without --cache-dir go to a folder
 * of the test file's (SHORTV_CACHE_DIR, removed with it), never to the user's ~/.cache/shortv nor to a cache
 * the user's environment names, which could hold graphs of an older build. `env.SHORTV_CACHE_DIR` sets
 * another for this one call.
 */
export async function cli(
  args: string[],
  env: { SHORTV_CACHE_DIR?: string } = {},
): Promise<{ code: number; out: string; err: string }> {
  graphCache ??= await tempDir('shortv-graph-cache-');
  process.env.SHORTV_CACHE_DIR = env.SHORTV_CACHE_DIR ?? graphCache;
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, {
    stdout: (t: string) => out.push(t),
    stderr: (t: string) => err.push(t),
    interactive: false,
  });
  return { code, out: out.join(''), err: err.join('') };
}

const tempDirs: string[] = [];

// Vitest isolates test files, so this module and this hook are new in each file that imports them:
// the folders go once the file's last test is done, even when a beforeAll or a test failed.
afterAll(async () => {
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/**
 * A fresh folder under the OS temp dir, removed after the test file. Call it in a hook or a test, not at the
 * top of a file: a file that a filter skips whole runs no hooks, so a folder made while collecting would stay.
 */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
