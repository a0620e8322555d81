import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { modelShapesDir } from '@shortv/model-shapes/node';
import { writeShapesDataset } from '@shortv/shapes/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, tempDir } from './helpers.ts';

let dir: string;
let image: string;
let data: string;

beforeAll(async () => {
  dir = await tempDir('shortv-cli-user-errors-');
  data = join(dir, 'cal');
  await writeShapesDataset({ outDir: data, count: 1, seed: 3, split: 'calibration' });
  image = join(data, 'images', (await readdir(join(data, 'images')))[0]!);
});

/** A user error: exit 1, an `error:` line naming `pattern`, and no stack trace. */
function expectUserError(r: { code: number; err: string }, pattern: RegExp): void {
  expect(r.code).toBe(1);
  expect(r.err).toMatch(/^error: /);
  expect(r.err).toMatch(pattern);
  expect(r.err).not.toMatch(/\n\s+at /);
}

describe('user-caused file-system errors', () => {
  it('names a --cache-dir or SHORTV_CACHE_DIR that is a file', async () => {
    const file = join(dir, 'not-a-folder');
    await writeFile(file, 'x');
    const flag = await cli(['run', '--image', image, '--prompt', 'hi', '--cache-dir', file]);
    expectUserError(flag, /--cache-dir .*not-a-folder is a file/);
    const env = await cli(['run', '--image', image, '--prompt', 'hi'], { SHORTV_CACHE_DIR: file });
    expectUserError(env, /SHORTV_CACHE_DIR .*not-a-folder is a file/);
  });

  it('names a model.safetensors that is a folder', async () => {
    const model = join(dir, 'model-with-folder');
    await mkdir(join(model, 'model.safetensors'), { recursive: true });
    for (const name of await readdir(modelShapesDir())) {
      if (name.endsWith('.json')) await copyFile(join(modelShapesDir(), name), join(model, name));
    }
    const r = await cli(['run', '--model', model, '--image', image, '--prompt', 'hi', '--no-cache']);
    expectUserError(r, /model\.safetensors is not a file \(it is a directory\)/);
  });
});

describe('output paths are checked before the work', () => {
  it('refuses demo --out that is a file, before calibrating', async () => {
    const file = join(dir, 'demo-out-file');
    await writeFile(file, 'x');
    const r = await cli(['demo', '--out', file, '--calibration-samples', '1', '--eval-samples', '1']);
    expectUserError(r, /--out .*demo-out-file is a file/);
    expect(r.err).not.toContain('calibrating');
  });

  it('refuses calibrate --out that is a folder, before calibrating', async () => {
    const folder = join(dir, 'lc-folder');
    await mkdir(folder, { recursive: true });
    const r = await cli(['calibrate', '--data', data, '--out', folder]);
    expectUserError(r, /--out .*lc-folder is a folder/);
    expect(r.err).not.toContain('calibrating');
  });

  it('refuses an --out below a file', async () => {
    const file = join(dir, 'plain-file');
    await writeFile(file, 'x');
    const r = await cli([
      'plan',
      '--lc',
      join(dir, 'none.json'),
      '--layers',
      '2',
      '--out',
      join(file, 'plan.json'),
    ]);
    expectUserError(r, /plain-file is a file, so no folder can be made there/);
  });
});

describe('prompt length', () => {
  it('refuses a prompt longer than the model context, giving both numbers', async () => {
    const r = await cli([
      'run',
      '--image',
      image,
      '--prompt',
      'what color is it? '.repeat(1112),
      '--no-cache',
    ]);
    expectUserError(
      r,
      /the prompt is \d+ tokens \(144 visual \+ \d+ text\).*context \(max_position_embeddings\) is 512 tokens/,
    );
  });

  it('answers a prompt that fits, with the answer inside the context', async () => {
    const r = await cli([
      'run',
      '--image',
      image,
      '--prompt',
      'what color is it? '.repeat(60),
      '--max-new-tokens',
      '4096',
      '--json',
      '--no-cache',
    ]);
    expect(r.code).toBe(0);
    const { stats } = JSON.parse(r.out);
    expect(stats.promptTokens).toBeGreaterThan(400);
    expect(stats.promptTokens).toBeLessThan(512);
    expect(stats.promptTokens + stats.newTokens).toBeLessThanOrEqual(512);
  });
});
