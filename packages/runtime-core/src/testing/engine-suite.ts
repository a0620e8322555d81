import {
  mergeImageFeatures,
  openLlavaModel,
  referenceDecoder,
  referenceEmbed,
  referenceImageFeatures,
  type WeightMap,
} from '@shortv/models';
import { argmax, clipPreprocess, Tensor } from '@shortv/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VlmEngine } from '../engine.ts';
import type { RuntimePlatform } from '../platform.ts';
import { buildPromptIds } from '../prompt.ts';
import { testImage, tinyFreezePlan, tinyModelFolder } from './tiny-model.ts';

const PROMPT = 'what color is the circle?';
const MAX_NEW = 6;

/** Greedy decoding with full re-computation each step through the plain-TS reference (no KV cache). */
async function referenceGreedy(frozen: readonly number[], steps: number): Promise<number[]> {
  const { folder, config } = tinyModelFolder({ numKvHeads: 2 });
  const engineFiles = await VlmEngine.readFiles(folder);
  const model = await openLlavaModel(folder);
  const weights: WeightMap = await model.weights.readAll();
  const image = testImage(20, 16);
  const pixels = clipPreprocess(image, engineFiles.processor);
  const features = referenceImageFeatures(config, weights, pixels);
  const prompt = buildPromptIds(engineFiles.tokenizer, PROMPT, 1, config.imageTokenIndex);
  const d = config.text.hiddenSize;
  const tokenRows = new Tensor('float32', referenceEmbed(config, weights, prompt.ids), [
    prompt.ids.length,
    d,
  ]);
  const merged = mergeImageFeatures(tokenRows, features, prompt.imagePositions);
  let rows = Array.from(merged.embeds.data);
  const visual = [...merged.visual];
  const out: number[] = [];
  for (let step = 0; step < steps; step++) {
    const n = visual.length;
    const result = referenceDecoder(config, weights, {
      inputsEmbeds: new Tensor('float32', Float32Array.from(rows), [1, n, d]),
      positionIds: [Array.from({ length: n }, (_, i) => i)],
      updateMask: (layer, _b, row) => (frozen.includes(layer) && visual[row] ? 0 : 1),
    });
    const v = config.text.vocabSize;
    const token = argmax(result.logits.subarray((n - 1) * v, n * v));
    if (token === 2) break;
    out.push(token);
    rows = rows.concat(Array.from(referenceEmbed(config, weights, [token])));
    visual.push(false);
  }
  return out;
}

/**
 * The engine suite every platform must pass: KV-cache decoding against the plain-TS reference, streaming,
 * abort, concurrent requests, freeze plans and input checks, on the tiny random model. It registers
 * vitest blocks, so call it at the top level of a test file; `createPlatform` runs once, before the suite.
 * This module imports vitest (an optional peer dependency), which is why it is a subpath of its own.
 */
export function engineSuite(
  name: string,
  createPlatform: () => RuntimePlatform | Promise<RuntimePlatform>,
): void {
  describe(`VlmEngine on ${name}`, () => {
    let platform: RuntimePlatform;
    let engine: VlmEngine;
    const image = testImage(20, 16);

    // Starting an ORT build (a wasm module) and building the graphs takes seconds on a busy machine.
    beforeAll(async () => {
      platform = await createPlatform();
      engine = await VlmEngine.load(tinyModelFolder({ numKvHeads: 2 }).folder, { platform });
    }, 120_000);

    afterAll(async () => {
      await engine?.dispose();
    });

    it('generates the reference greedy tokens (KV-cache decoding vs full recomputation)', async () => {
      const result = await engine.run({ prompt: PROMPT, images: [image], maxNewTokens: MAX_NEW });
      const expected = await referenceGreedy([], MAX_NEW);
      expect(expected.length).toBe(MAX_NEW);
      expect(result.tokenIds).toEqual(expected);
      expect(result.stats.visualTokens).toBe(16);
      expect(result.stats.promptTokens).toBe(result.stats.visualTokens + result.stats.textTokens);
      expect(result.stats.flops.ratio).toBe(1);
    });

    it('streams the same text as a non-streaming run', async () => {
      const whole = await engine.run({ prompt: PROMPT, images: [image], maxNewTokens: MAX_NEW });
      const chunks: string[] = [];
      const iterator = engine.generate({ prompt: PROMPT, images: [image], maxNewTokens: MAX_NEW });
      for await (const chunk of iterator) chunks.push(chunk.text);
      expect(chunks.join('')).toBe(whole.text);
    });

    it('stops within one decode step of an abort', async () => {
      const controller = new AbortController();
      const seen: number[] = [];
      const iterator = engine.generate({
        prompt: PROMPT,
        images: [image],
        maxNewTokens: 50,
        sampling: { temperature: 1, seed: 3 },
        signal: controller.signal,
      });
      await expect(
        (async () => {
          for await (const chunk of iterator) {
            seen.push(chunk.tokenId);
            if (seen.length === 2) controller.abort();
          }
        })(),
      ).rejects.toMatchObject({ code: 'E_ABORTED' });
      expect(seen.length).toBe(2);
    });

    it('gives concurrent requests the outputs they get one after the other', async () => {
      const a = {
        prompt: PROMPT,
        images: [image],
        maxNewTokens: MAX_NEW,
        sampling: { temperature: 1, seed: 11 },
      };
      const b = { prompt: 'what is the circle?', images: [testImage(16, 16, 5)], maxNewTokens: MAX_NEW };
      const sequential = [await engine.run(a), await engine.run(b)].map((r) => r.tokenIds);
      const concurrent = (await Promise.all([engine.run(a), engine.run(b)])).map((r) => r.tokenIds);
      expect(concurrent).toEqual(sequential);
    });

    it('applies a freeze plan: tokens match the reference with those visual updates skipped', async () => {
      const planned = await VlmEngine.load(tinyModelFolder({ numKvHeads: 2 }).folder, {
        platform,
        plan: tinyFreezePlan(engine.fingerprint, [0, 2]),
      });
      const result = await planned.run({ prompt: PROMPT, images: [image], maxNewTokens: MAX_NEW });
      const expected = await referenceGreedy([0, 2], MAX_NEW);
      // The plan must change the answer, or this comparison could not tell frozen from dense.
      expect(expected).not.toEqual(await referenceGreedy([], MAX_NEW));
      expect(result.tokenIds).toEqual(expected);
      expect(result.stats.frozenLayers).toEqual([0, 2]);
      expect(result.stats.flops.ratio).toBeLessThan(1);
      await planned.setPlan(null);
      const dense = await planned.run({ prompt: PROMPT, images: [image], maxNewTokens: MAX_NEW });
      expect(dense.tokenIds).toEqual(await referenceGreedy([], MAX_NEW));
      await planned.dispose();
    });

    it('switches plans holding one decoder at a time, opens none for the same form, and survives a failed open', async () => {
      // Counts the sessions alive at once: a switch must release the old decoder before the new opens.
      let alive = 0;
      let most = 0;
      let opened = 0;
      let failNext = false;
      const counting: RuntimePlatform = {
        ...platform,
        async createSession(model, options) {
          if (failNext) {
            failNext = false;
            throw new Error('simulated open failure');
          }
          const session = await platform.createSession(model, options);
          opened++;
          most = Math.max(most, ++alive);
          const release = session.release.bind(session);
          session.release = async () => {
            alive--;
            await release();
          };
          return session;
        },
      };
      const switching = await VlmEngine.load(tinyModelFolder({ numKvHeads: 2 }).folder, {
        platform: counting,
      });
      const afterLoad = alive;
      const plan = tinyFreezePlan(switching.fingerprint, [0, 2]);
      await switching.setPlan(plan);
      expect(alive).toBe(afterLoad);
      expect(most).toBe(afterLoad);
      // The same frozen layers under another plan object: the same graph, nothing opened.
      const before = opened;
      await switching.setPlan({ ...plan, calibration: null });
      expect(opened).toBe(before);
      expect(switching.activePlan?.layers.map((l) => l.index)).toEqual([0, 2]);
      // A failed open leaves the engine on its previous plan, answering as before.
      failNext = true;
      await expect(switching.setPlan(null)).rejects.toThrow(/simulated open failure/);
      expect(switching.activePlan?.layers.map((l) => l.index)).toEqual([0, 2]);
      const frozen = await switching.run({ prompt: PROMPT, images: [image], maxNewTokens: MAX_NEW });
      expect(frozen.tokenIds).toEqual(await referenceGreedy([0, 2], MAX_NEW));
      // A request made while a switch is under way waits for the new decoder.
      const switched = switching.setPlan(null);
      const answer = await switching.run({ prompt: PROMPT, images: [image], maxNewTokens: MAX_NEW });
      await switched;
      expect(answer.tokenIds).toEqual(await referenceGreedy([], MAX_NEW));
      expect(most).toBe(afterLoad);
      await switching.dispose();
      expect(alive).toBe(0);
    });

    it('refuses a plan made for another model, naming the difference', async () => {
      await expect(engine.setPlan(tinyFreezePlan('sha256:'.padEnd(71, '0'), [1]))).rejects.toMatchObject({
        code: 'E_PLAN_MODEL_MISMATCH',
      });
      await expect(engine.setPlan(tinyFreezePlan(engine.fingerprint, [1], 4))).rejects.toThrow(/layer/);
    });

    it('refuses an empty prompt and bad sampling options', async () => {
      await expect(engine.run({ prompt: ' ', images: [image] })).rejects.toMatchObject({
        code: 'E_INPUT_PROMPT',
      });
      await expect(
        engine.run({ prompt: PROMPT, images: [image], sampling: { topP: 2 } }),
      ).rejects.toMatchObject({
        code: 'E_INPUT_SAMPLING',
      });
    });
  });
}
