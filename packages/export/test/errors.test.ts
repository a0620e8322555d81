import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelShapesDir } from '@shortv/model-shapes/node';
import { parsePlan } from '@shortv/plan';
import { readModelFiles } from '@shortv/runtime-core';
import { nodeModelFolder } from '@shortv/runtime-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exportModel } from '../src/index.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'shortv-export-errors-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function plan(fingerprint: string, numLayers: number, extra: Record<string, unknown> = {}) {
  return parsePlan({
    format: 'shortv.freeze-plan',
    version: 1,
    model: { architecture: 'llava', numLayers, fingerprint },
    layers: [{ index: 11, visual: 'freeze' }],
    prune: null,
    withdraw: null,
    lc: null,
    calibration: null,
    estimate: null,
    ...extra,
  });
}

describe('exportModel refuses bad input and writes nothing', () => {
  it('an unknown format', async () => {
    const out = join(root, 'out');
    await expect(
      exportModel({ modelDir: modelShapesDir(), outDir: out, format: 'onnx-genai' }),
    ).rejects.toMatchObject({ code: 'E_EXPORT_FORMAT', message: expect.stringContaining('transformers.js') });
    expect(await readdir(root)).toEqual([]);
  });

  it('a plan for another model', async () => {
    const out = join(root, 'out');
    const other = plan(`sha256:${'0'.repeat(64)}`, 12);
    await expect(
      exportModel({ modelDir: modelShapesDir(), outDir: out, format: 'transformers.js', plan: other }),
    ).rejects.toMatchObject({ code: 'E_PLAN_MODEL_MISMATCH' });
    expect(await readdir(root)).toEqual([]);
  });

  it('a plan that drops visual rows', async () => {
    const { fingerprint, config } = await readModelFiles(nodeModelFolder(modelShapesDir()));
    const pruning = plan(fingerprint, config.text.numLayers, { prune: { afterLayer: 2, keep: 0.5 } });
    await expect(
      exportModel({
        modelDir: modelShapesDir(),
        outDir: join(root, 'out'),
        format: 'transformers.js',
        plan: pruning,
      }),
    ).rejects.toMatchObject({ code: 'E_EXPORT_PLAN_UNSUPPORTED' });
    expect(await readdir(root)).toEqual([]);
  });

  it('an --out folder that is not empty, left as it was', async () => {
    const out = join(root, 'out');
    await mkdir(out);
    await writeFile(join(out, 'keep.txt'), 'mine');
    await expect(
      exportModel({ modelDir: modelShapesDir(), outDir: out, format: 'transformers.js' }),
    ).rejects.toMatchObject({ code: 'E_EXPORT_OUT_EXISTS', message: expect.stringContaining('not empty') });
    expect(await readdir(root)).toEqual(['out']);
    expect(await readdir(out)).toEqual(['keep.txt']);
  });

  it('an empty --out folder is filled', async () => {
    const out = join(root, 'out');
    await mkdir(out);
    const result = await exportModel({ modelDir: modelShapesDir(), outDir: out, format: 'transformers.js' });
    expect(result.form).toBe('dense');
    expect(await readdir(root)).toEqual(['out']);
    expect((await readdir(join(out, 'onnx'))).sort()).toEqual([
      'decoder_model_merged.onnx',
      'embed_tokens.onnx',
      'vision_encoder.onnx',
    ]);
  });
});
