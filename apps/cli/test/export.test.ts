import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { modelShapesDir } from '@shortv/model-shapes/node';
import { readModelFiles } from '@shortv/runtime-core';
import { nodeModelFolder } from '@shortv/runtime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, tempDir } from './helpers.ts';

let dir: string;
let numLayers: number;

beforeAll(async () => {
  dir = await tempDir('shortv-cli-export-');
  numLayers = (await readModelFiles(nodeModelFolder(modelShapesDir()))).config.text.numLayers;
});

async function writePlan(name: string, fingerprint: string, layers: number[]): Promise<string> {
  const path = join(dir, name);
  const plan = {
    format: 'shortv.freeze-plan',
    version: 1,
    model: { architecture: 'llava', numLayers, fingerprint },
    layers: layers.map((index) => ({ index, visual: 'freeze' })),
    prune: null,
    withdraw: null,
    lc: null,
    calibration: null,
    estimate: null,
  };
  await writeFile(path, JSON.stringify(plan));
  return path;
}

function expectUserError(r: { code: number; err: string }, pattern: RegExp): void {
  expect(r.code).toBe(1);
  expect(r.err).toMatch(/^error: /);
  expect(r.err).toMatch(pattern);
  expect(r.err).not.toMatch(/\n\s+at /);
}

describe('shortv export', () => {
  it('writes a ShortV transformers.js folder with --plan', async () => {
    const { fingerprint } = await readModelFiles(nodeModelFolder(modelShapesDir()));
    const plan = await writePlan('plan.json', fingerprint, [10, 11]);
    const out = join(dir, 'tjs');
    const r = await cli(['export', '--format', 'transformers.js', '--out', out, '--plan', plan, '--json']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.out);
    expect(result).toMatchObject({ format: 'transformers.js', form: 'shortv', frozenLayers: [10, 11] });
    expect((await readdir(join(out, 'onnx'))).sort()).toEqual([
      'decoder_model_merged.onnx',
      'embed_tokens.onnx',
      'vision_encoder.onnx',
    ]);
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    expect(config.shortv_export).toMatchObject({ form: 'shortv', frozen_layers: [10, 11] });
    const processor = JSON.parse(await readFile(join(out, 'processor_config.json'), 'utf8'));
    expect(processor.num_additional_image_tokens).toBe(0);
  });

  it('refuses an unknown --format, writing nothing', async () => {
    const out = join(dir, 'unknown-format');
    expectUserError(
      await cli(['export', '--format', 'gguf', '--out', out]),
      /unknown export format 'gguf'.*transformers\.js/,
    );
    expect(await readdir(dir)).not.toContain('unknown-format');
  });

  it('refuses a plan for another model, writing nothing', async () => {
    const plan = await writePlan('other.json', `sha256:${'1'.repeat(64)}`, [11]);
    const out = join(dir, 'other-model');
    expectUserError(
      await cli(['export', '--format', 'transformers.js', '--out', out, '--plan', plan]),
      /different model: fingerprint/,
    );
    expect((await readdir(dir)).filter((e) => e.includes('other-model'))).toEqual([]);
  });

  it('refuses a non-empty --out and leaves it as it was', async () => {
    const out = join(dir, 'full');
    await mkdir(out);
    await writeFile(join(out, 'notes.txt'), 'keep me');
    expectUserError(await cli(['export', '--format', 'transformers.js', '--out', out]), /is not empty/);
    expect(await readdir(out)).toEqual(['notes.txt']);
    expect((await readdir(dir)).filter((e) => e.includes('full'))).toEqual(['full']);
  });
});
