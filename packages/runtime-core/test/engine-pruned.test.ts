import {
  mergeImageFeatures,
  openLlavaModel,
  referenceEmbed,
  referenceImageFeatures,
  referencePrunedDecoder,
  type WeightMap,
} from '@shortv/models';
import { type FreezePlan, keptVisualTokens, prefillFlops } from '@shortv/plan';
import { argmax, clipPreprocess, Tensor } from '@shortv/tensor';
import { describe, expect, it } from 'vitest';
import { VlmEngine } from '../src/index.ts';
import type { RuntimePlatform } from '../src/platform.ts';
import { buildPromptIds } from '../src/prompt.ts';
import {
  nodeTestPlatform,
  testImage,
  tinyFreezePlan,
  tinyModelFolder,
  wasmTestPlatform,
} from '../src/testing/index.ts';

const PROMPT = 'what color is the circle?';
const MAX_NEW = 5;
const MODEL = { numKvHeads: 2, numLayers: 4, seed: 7 } as const;

/** Greedy answer of the plain-TS pruned reference, recomputing the whole sequence per token. */
async function referenceGreedy(plan: FreezePlan): Promise<{ tokens: number[]; keptRows: readonly number[] }> {
  const { folder, config } = tinyModelFolder(MODEL);
  const files = await VlmEngine.readFiles(folder);
  const model = await openLlavaModel(folder);
  const weights: WeightMap = await model.weights.readAll();
  const features = referenceImageFeatures(
    config,
    weights,
    clipPreprocess(testImage(20, 16), files.processor),
  );
  const prompt = buildPromptIds(files.tokenizer, PROMPT, 1, config.imageTokenIndex);
  const d = config.text.hiddenSize;
  const tokenRows = new Tensor('float32', referenceEmbed(config, weights, prompt.ids), [
    prompt.ids.length,
    d,
  ]);
  const merged = mergeImageFeatures(tokenRows, features, prompt.imagePositions);
  let rows = Array.from(merged.embeds.data);
  const visual = [...merged.visual];
  const visualCount = visual.filter(Boolean).length;
  const frozenLayers = plan.layers.map((l) => l.index);
  const tokens: number[] = [];
  let keptRows: readonly number[] = [];
  let keptVisualRows: readonly number[] | undefined;
  for (let step = 0; step < MAX_NEW; step++) {
    const n = visual.length;
    const result = referencePrunedDecoder(config, weights, {
      inputsEmbeds: new Tensor('float32', Float32Array.from(rows), [1, n, d]),
      positionIds: Array.from({ length: n }, (_, i) => i),
      visual,
      frozenLayers,
      prune: plan.prune && {
        afterLayer: plan.prune.afterLayer,
        keepCount: keptVisualTokens(plan.prune.keep, visualCount),
        ...(keptVisualRows ? { keptVisualRows } : {}),
      },
      withdraw: plan.withdraw,
    });
    if (step === 0) {
      keptRows = result.keptRows;
      // Decode steps replay the prefill's choice, as the KV cache does.
      keptVisualRows = result.keptRows.filter((r) => visual[r]);
    }
    const token = argmax(result.lastLogits);
    if (token === 2) break;
    tokens.push(token);
    rows = rows.concat(Array.from(referenceEmbed(config, weights, [token])));
    visual.push(false);
  }
  return { tokens, keptRows };
}

function plans(fingerprint: string): Record<string, FreezePlan> {
  const base = (layers: number[]) => tinyFreezePlan(fingerprint, layers, MODEL.numLayers);
  return {
    fastv: { ...base([]), prune: { afterLayer: 0, keep: 0.5 } },
    vtw: { ...base([]), withdraw: { fromLayer: 2 } },
    'shortv+fastv': { ...base([1, 3]), prune: { afterLayer: 1, keep: 0.25 } },
    'shortv+fastv+vtw': { ...base([0]), prune: { afterLayer: 0, keep: 0.5 }, withdraw: { fromLayer: 3 } },
  };
}

function prunedSuite(name: string, createPlatform: () => Promise<RuntimePlatform>) {
  describe(`engine with FastV / VTW plans (${name})`, () => {
    it('answers as the pruned reference, with the same kept rows and the plan FLOPs', async () => {
      const platform = await createPlatform();
      const { folder, config } = tinyModelFolder(MODEL);
      const engine = await VlmEngine.load(folder, { platform });
      const request = { prompt: PROMPT, images: [testImage(20, 16)], maxNewTokens: MAX_NEW };
      const dense = await engine.run(request);
      for (const [label, plan] of Object.entries(plans(engine.fingerprint))) {
        await engine.setPlan(plan);
        const result = await engine.run(request);
        const reference = await referenceGreedy(plan);
        expect(reference.tokens.length, label).toBeGreaterThan(0);
        expect(result.tokenIds, label).toEqual(reference.tokens);
        expect(result.stats.keptRows, label).toEqual(reference.keptRows);
        const expected = prefillFlops(
          {
            hiddenSize: config.text.hiddenSize,
            intermediateSize: config.text.intermediateSize,
            numLayers: config.text.numLayers,
            numHeads: config.text.numHeads,
            numKvHeads: config.text.numKvHeads,
            headDim: config.text.headDim,
          },
          { visualTokens: result.stats.visualTokens, textTokens: result.stats.textTokens },
          plan,
        );
        expect(result.stats.flops.ratio, label).toBeCloseTo(expected.ratio, 12);
        expect(result.stats.flops.ratio, label).toBeLessThan(dense.stats.flops.ratio);
      }
      await engine.setPlan(null);
      expect((await engine.run(request)).tokenIds).toEqual(dense.tokenIds);
      await engine.dispose();
    });

    it('refuses a plan whose withdrawal makes its pruning moot, and keeps the current plan', async () => {
      const platform = await createPlatform();
      const { folder } = tinyModelFolder(MODEL);
      const engine = await VlmEngine.load(folder, { platform });
      const bad = {
        ...tinyFreezePlan(engine.fingerprint, [], MODEL.numLayers),
        prune: { afterLayer: 1, keep: 0.5 },
        withdraw: { fromLayer: 2 },
      };
      await expect(engine.setPlan(bad)).rejects.toMatchObject({ code: 'E_PLAN_UNSUPPORTED' });
      expect(engine.activePlan).toBeNull();
      await engine.dispose();
    });
  });
}

prunedSuite('onnxruntime-node', nodeTestPlatform);
prunedSuite('onnxruntime-web-wasm', wasmTestPlatform);
