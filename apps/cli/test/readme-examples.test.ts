import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type RunnableBlock, readmeBlocks, runnableBlocks } from './readme/extract.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = join(ROOT, 'apps/cli/src/bin.ts');
// The loader by absolute URL: examples start outside the repository, where `--import tsx` would not resolve.
const TSX = pathToFileURL(createRequire(join(ROOT, 'package.json')).resolve('tsx')).href;

/**
 * Runs one block: sh with bash (-e, pipefail) and a `shortv` command on PATH; ts as a module saved
 * next to its README (in the ignored .cache/ folder, so the package's imports resolve) and run with
 * the source condition. Both start in a fresh temporary folder unless the block says cwd=repo.
 */
function runBlock(block: RunnableBlock): { status: number | null; output: string } {
  const work = mkdtempSync(join(tmpdir(), 'shortv-readme-'));
  const bin = join(work, '.bin');
  mkdirSync(bin);
  const shim = join(bin, 'shortv');
  writeFileSync(shim, `#!/bin/sh\nexec node --conditions=@shortv/source --import ${TSX} "${BIN}" "$@"\n`);
  chmodSync(shim, 0o755);
  const env = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH}`,
    // A README command must not reinstall the workspace.
    npm_config_verify_deps_before_run: 'false',
    // Nor fill the user's graph cache: the examples' graphs go with their folder.
    SHORTV_CACHE_DIR: join(work, 'graphs'),
  };
  const cwd = block.inRepo ? ROOT : work;
  const options = { cwd, env, encoding: 'utf8' as const, timeout: block.timeoutSeconds * 1000 };
  let result: ReturnType<typeof spawnSync>;
  if (block.lang === 'sh') {
    result = spawnSync('bash', ['-euo', 'pipefail', '-c', block.code], options);
  } else {
    const dir = join(ROOT, dirname(block.file), '.cache', 'readme-examples');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `line-${block.line}-${process.pid}.ts`);
    writeFileSync(file, block.code);
    try {
      result = spawnSync(process.execPath, ['--conditions=@shortv/source', '--import', TSX, file], options);
    } finally {
      rmSync(file, { force: true });
    }
  }
  rmSync(work, { recursive: true, force: true });
  return { status: result.status, output: `${result.stdout}${result.stderr}${result.error ?? ''}` };
}

describe('README code blocks marked runnable', () => {
  const blocks = readmeBlocks(ROOT);

  it('finds runnable blocks in the READMEs', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    expect(
      runnableBlocks('```ts\nnot run\n```\n```sh runnable cwd=repo timeout=9\necho 1\n```\n', 'X'),
    ).toEqual([{ file: 'X', line: 4, lang: 'sh', code: 'echo 1', inRepo: true, timeoutSeconds: 9 }]);
  });

  it('fails a block that fails', () => {
    const block = {
      file: 'README.md',
      line: 1,
      lang: 'sh',
      code: 'false',
      inRepo: false,
      timeoutSeconds: 10,
    } as const;
    expect(runBlock(block).status).not.toBe(0);
  });

  for (const block of blocks) {
    it(
      `${block.file}:${block.line} (${block.lang}) runs`,
      () => {
        const { status, output } = runBlock(block);
        expect(status, output.slice(-4000)).toBe(0);
      },
      (block.timeoutSeconds + 30) * 1000,
    );
  }
});
