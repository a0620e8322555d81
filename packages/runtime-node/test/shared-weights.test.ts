import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelShapesGoldenPath, modelShapesPackageDir } from '@shortv/model-shapes/node';
import { VlmEngine } from '@shortv/runtime-core';
import { tinyFreezePlan } from '@shortv/runtime-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImageFile, listCacheItems, nodeModelFolder, nodePlatform } from '../src/index.ts';

/**
 * With a cache directory the weights are written once to a weights file that every graph references:
 * answers must equal those of graphs that embed the weights, and the cached graphs hold structure only.
 */
const root = modelShapesPackageDir();
const folder = () => nodeModelFolder(join(root, 'model'));
const golden = JSON.parse(readFileSync(modelShapesGoldenPath(), 'utf8')) as {
  samples: { image: string; question: string }[];
};
let dir: string;
let embedded: VlmEngine;
let shared: VlmEngine;

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shortv-shared-weights-'));
  embedded = await VlmEngine.load(folder(), { platform: nodePlatform({ intraOpThreads: 1 }) });
  shared = await VlmEngine.load(folder(), { platform: nodePlatform({ intraOpThreads: 1, cacheDir: dir }) });
});

afterAll(async () => {
  await embedded?.dispose();
  await shared?.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('weights shared through one external data file', () => {
  it('answers as the embedded graphs do, dense and under a plan', async () => {
    const plan = tinyFreezePlan(embedded.fingerprint, [1, 2], embedded.config.text.numLayers);
    for (const p of [null, plan]) {
      await embedded.setPlan(p);
      await shared.setPlan(p);
      for (const sample of golden.samples.slice(0, 3)) {
        const request = {
          prompt: sample.question,
          images: [await decodeImageFile(join(root, sample.image))],
        };
        const a = await embedded.promptLogits(request);
        const b = await shared.promptLogits(request);
        expect(b.length).toBe(a.length);
        expect(maxAbsDiff(a, b)).toBeLessThan(1e-4);
        const answerA = await embedded.run({ ...request, maxNewTokens: 8, sampling: { temperature: 0 } });
        const answerB = await shared.run({ ...request, maxNewTokens: 8, sampling: { temperature: 0 } });
        expect(answerB.tokenIds).toEqual(answerA.tokenIds);
      }
    }
  });

  it('runs layer-by-layer passes on the shared weights', async () => {
    const sample = golden.samples[0]!;
    const request = { prompt: sample.question, images: [await decodeImageFile(join(root, sample.image))] };
    const a = await embedded.layerwise().cleanPass(await embedded.preparePrompt(request));
    const b = await shared.layerwise().cleanPass(await shared.preparePrompt(request));
    expect(maxAbsDiff(a.logits.data, b.logits.data)).toBeLessThan(1e-4);
  });

  it('keeps the weights once on disk and graphs as structure only', async () => {
    const items = await listCacheItems(dir);
    const weights = items.filter((i) => i.kind === 'weights');
    const graphs = items.filter((i) => i.kind === 'graph');
    expect(weights).toHaveLength(1);
    expect(graphs.length).toBeGreaterThanOrEqual(4); // vision, embed, dense decoder, planned decoder
    const modelBytes = (await stat(join(root, 'model', 'model.safetensors'))).size;
    const graphBytes = graphs.reduce((n, g) => n + g.bytes, 0);
    expect(graphBytes).toBeLessThan(0.05 * modelBytes);
    expect(weights[0]!.bytes).toBeLessThan(1.2 * modelBytes);
  });

  it('reuses the weights file on the next load instead of writing it again', async () => {
    const before = (await listCacheItems(dir)).find((i) => i.kind === 'weights')!;
    const again = await VlmEngine.load(folder(), {
      platform: nodePlatform({ intraOpThreads: 1, cacheDir: dir }),
    });
    await again.dispose();
    const files = (await readdir(dir)).filter((f) => f.startsWith('weights-'));
    expect(files.sort()).toEqual([...before.files].sort());
    const after = (await listCacheItems(dir)).find((i) => i.kind === 'weights')!;
    expect(after.bytes).toBe(before.bytes);
    expect(after.lastUsed.getTime()).toBeGreaterThanOrEqual(before.lastUsed.getTime());
  });

  it('answers a tied-embeddings model as PyTorch does from the shared weights file', async () => {
    const tied = join(import.meta.dirname, 'fixtures', 'golden-variants', 'llama-tied-embeddings');
    const golden = JSON.parse(readFileSync(join(tied, 'golden.json'), 'utf8')) as {
      image: string;
      question: string;
      last_logits: number[];
    };
    const tiedDir = join(dir, 'tied');
    const engine = await VlmEngine.load(nodeModelFolder(tied), {
      platform: nodePlatform({ intraOpThreads: 1, cacheDir: tiedDir }),
    });
    try {
      const logits = await engine.promptLogits({
        prompt: golden.question,
        images: [await decodeImageFile(join(tied, golden.image))],
      });
      expect(maxAbsDiff(logits, Float32Array.from(golden.last_logits))).toBeLessThan(1e-3);
    } finally {
      await engine.dispose();
    }
  });
});
