import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelShapesGoldenPath, modelShapesPackageDir } from '@shortv/model-shapes/node';
import { buildPromptIds, VlmEngine } from '@shortv/runtime-core';
import { Tensor } from '@shortv/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImageFile, nodeModelFolder, nodePlatform } from '../src/index.ts';

/**
 * The bundled model through our ONNX graphs must reproduce what the PyTorch model that trained it
 * computed (golden/golden.json): prompt ids, first-answer-token logits, per-layer hidden-state norms of
 * the last prompt position, and the greedy answers.
 */
interface GoldenSample {
  id: string;
  image: string;
  question: string;
  prompt_ids: number[];
  last_logits: number[];
  layer_last_token_norms: number[];
  greedy_ids: number[];
  greedy_text: string;
}

const golden = JSON.parse(readFileSync(modelShapesGoldenPath(), 'utf8')) as { samples: GoldenSample[] };
const root = modelShapesPackageDir();
let engine: VlmEngine;

beforeAll(async () => {
  engine = await VlmEngine.load(nodeModelFolder(join(root, 'model')), {
    platform: nodePlatform({ intraOpThreads: 1 }),
  });
});

afterAll(async () => {
  await engine.dispose();
});

function l2(values: Float32Array): number {
  let s = 0;
  for (const v of values) s += v * v;
  return Math.sqrt(s);
}

describe('bundled model vs its PyTorch golden outputs', () => {
  it('has golden samples to check', () => {
    expect(golden.samples.length).toBeGreaterThanOrEqual(8);
  });

  it.each(golden.samples.map((s) => [s.id, s] as const))('%s', async (_id, sample) => {
    const image = await decodeImageFile(join(root, sample.image));
    const files = engine.files;
    const ids = buildPromptIds(files.tokenizer, sample.question, 1, files.config.imageTokenIndex).ids;
    expect(ids).toEqual(sample.prompt_ids);

    const prepared = await engine.preparePrompt({ prompt: sample.question, images: [image] });
    const runner = engine.layerwise();
    const clean = await runner.cleanPass(prepared);
    const logits = clean.logits.data;
    let maxDiff = 0;
    sample.last_logits.forEach((v, i) => {
      maxDiff = Math.max(maxDiff, Math.abs(v - logits[i]!));
    });
    expect(maxDiff).toBeLessThanOrEqual(1e-3);

    const d = files.config.text.hiddenSize;
    const last = prepared.seq - 1;
    const L = files.config.text.numLayers;
    const outputs = clean.layerInputs.slice(1);
    const finalInput = new Tensor('float32', clean.layerInputs[L - 1]!, [1, prepared.seq, d]);
    outputs.push((await runner.runLayers(L - 1, L, finalInput)).data);
    const norms = outputs.map((h) => l2(h.subarray(last * d, (last + 1) * d)));
    norms.forEach((n, i) => {
      expect(Math.abs(n - sample.layer_last_token_norms[i]!)).toBeLessThanOrEqual(1e-3 * Math.max(1, n));
    });

    const result = await engine.run({ prompt: sample.question, images: [image], maxNewTokens: 64 });
    const eos = new Set(files.eosTokenIds);
    expect(result.tokenIds).toEqual(sample.greedy_ids.filter((id) => !eos.has(id)));
    expect(result.text).toBe(sample.greedy_text);
  });
});
