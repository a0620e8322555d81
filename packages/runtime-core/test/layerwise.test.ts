import {
  mergeImageFeatures,
  openLlavaModel,
  referenceDecoder,
  referenceEmbed,
  referenceImageFeatures,
  type WeightMap,
} from '@shortv/models';
import { clipPreprocess, Tensor } from '@shortv/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildPromptIds, type LayerwiseRunner, type RuntimePlatform, VlmEngine } from '../src/index.ts';
import { testImage, testPlatforms, tinyModelFolder } from '../src/testing/index.ts';

const PROMPT = 'what color is the circle?';
const ANSWER = 'a large red circle';
const TINY = { numKvHeads: 2, numLayers: 4 } as const;

function maxRelDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  return worst / scale;
}

/** The plain-TS reference: prompt (+ teacher-forced answer) rows, built independently of the engine. */
async function referenceRows(answerIds: readonly number[]) {
  const { folder, config } = tinyModelFolder(TINY);
  const files = await VlmEngine.readFiles(folder);
  const model = await openLlavaModel(folder);
  const weights: WeightMap = await model.weights.readAll();
  const features = referenceImageFeatures(
    config,
    weights,
    clipPreprocess(testImage(20, 16), files.processor),
  );
  const prompt = buildPromptIds(files.tokenizer, PROMPT, 1, config.imageTokenIndex);
  const ids = [...prompt.ids, ...answerIds.slice(0, -1)];
  const d = config.text.hiddenSize;
  const tokens = new Tensor('float32', referenceEmbed(config, weights, ids), [ids.length, d]);
  const merged = mergeImageFeatures(tokens, features, prompt.imagePositions);
  return { config, weights, merged };
}

const platforms = await testPlatforms();

describe.each(platforms.map((p) => [p.name, p] as [string, RuntimePlatform]))(
  'layer-by-layer passes on %s',
  (_name, platform) => {
    let engine: VlmEngine;
    let runner: LayerwiseRunner;
    const image = testImage(20, 16);

    beforeAll(async () => {
      engine = await VlmEngine.load(tinyModelFolder(TINY).folder, { platform });
      runner = engine.layerwise();
    });

    it('prepares the prompt rows the reference builds, with teacher-forced answer rows', async () => {
      const plain = await engine.preparePrompt({ prompt: PROMPT, images: [image] });
      const forced = await engine.preparePrompt({ prompt: PROMPT, images: [image], answer: ANSWER });
      const tokenizer = engine.files.tokenizer;
      expect(tokenizer.decode(forced.answerIds)).toBe(ANSWER);
      expect(forced.answerIds.length).toBe(4);
      expect(plain.answerIds).toEqual([]);
      expect(plain.scoreRows).toEqual([plain.seq - 1]);
      expect(forced.promptRows).toBe(plain.seq);
      expect(forced.seq).toBe(plain.seq + 3);
      expect(forced.scoreRows).toEqual([0, 1, 2, 3].map((k) => plain.seq - 1 + k));
      expect(forced.visual.filter(Boolean).length).toBe(16);
      expect(forced.embeds.subarray(0, plain.embeds.length)).toEqual(plain.embeds);
      const ref = await referenceRows(forced.answerIds);
      expect(maxRelDiff(forced.embeds, ref.merged.embeds.data)).toBeLessThan(1e-5);
      expect(forced.visual).toEqual(ref.merged.visual);
    });

    it('keeps every layer input and the logits of the clean pass, as the reference computes them', async () => {
      const seq = await engine.preparePrompt({ prompt: PROMPT, images: [image], answer: ANSWER });
      const clean = await runner.cleanPass(seq, { rows: seq.scoreRows });
      const { config, weights, merged } = await referenceRows(seq.answerIds);
      const ref = referenceDecoder(config, weights, {
        inputsEmbeds: new Tensor('float32', merged.embeds.data, [1, seq.seq, seq.hiddenSize]),
        positionIds: [Array.from({ length: seq.seq }, (_, i) => i)],
      });
      expect(clean.layerInputs.length).toBe(4);
      clean.layerInputs.forEach((input, l) => {
        expect(maxRelDiff(input, ref.hiddenStates[l]!)).toBeLessThan(1e-4);
      });
      const v = config.text.vocabSize;
      expect(clean.logits.dims).toEqual([1, 4, v]);
      seq.scoreRows.forEach((row, k) => {
        const got = clean.logits.data.subarray(k * v, (k + 1) * v);
        expect(maxRelDiff(got, ref.logits.subarray(row * v, (row + 1) * v))).toBeLessThan(1e-4);
      });
    });

    // Masks in a middle layer and in the last one.
    for (const lastMasked of [true, false]) {
      it(`runs from a middle layer with per-row masks${lastMasked ? ', the last layer masked too' : ''}: equal to the full masked decoder and the reference`, async () => {
        const seq = await engine.preparePrompt({ prompt: PROMPT, images: [image], answer: ANSWER });
        const clean = await runner.cleanPass(seq, { rows: seq.scoreRows });
        const S = seq.seq;
        const d = seq.hiddenSize;
        const start = 1;
        // Row 0 freezes visual updates in layer 1, row 1 text updates in layer 1 and visual ones in layer 2 or 3.
        const visualOff = Float32Array.from(seq.visual, (v) => (v ? 0 : 1));
        const textOff = Float32Array.from(seq.visual, (v) => (v ? 1 : 0));
        const ones = new Float32Array(S).fill(1);
        const masks = new Map([
          [1, Float32Array.from([...visualOff, ...textOff])],
          [lastMasked ? 3 : 2, Float32Array.from([...ones, ...visualOff])],
        ]);
        const hidden = new Float32Array(2 * S * d);
        hidden.set(clean.layerInputs[start]!, 0);
        hidden.set(clean.layerInputs[start]!, S * d);
        const rows = seq.scoreRows;
        const fromLayer = await runner.runFrom(start, new Tensor('float32', hidden, [2, S, d]), {
          masks,
          rows,
        });
        const twice = new Float32Array(2 * S * d);
        twice.set(seq.embeds, 0);
        twice.set(seq.embeds, S * d);
        const full = await runner.runFull(new Tensor('float32', twice, [2, S, d]), { masks, rows });
        expect(fromLayer.dims).toEqual([2, rows.length, runner.vocabSize]);
        expect(maxRelDiff(fromLayer.data, full.data)).toBeLessThan(1e-5);

        const { config, weights, merged } = await referenceRows(seq.answerIds);
        const ref = referenceDecoder(config, weights, {
          inputsEmbeds: new Tensor(
            'float32',
            Float32Array.from([...merged.embeds.data, ...merged.embeds.data]),
            [2, S, d],
          ),
          positionIds: [0, 1].map(() => Array.from({ length: S }, (_, i) => i)),
          updateMask: (layer, b, row) => masks.get(layer)?.[b * S + row] ?? 1,
        });
        const v = runner.vocabSize;
        for (const b of [0, 1]) {
          rows.forEach((row, k) => {
            const expected = ref.logits.subarray((b * S + row) * v, (b * S + row + 1) * v);
            const got = fromLayer.data.subarray((b * rows.length + k) * v, (b * rows.length + k + 1) * v);
            expect(maxRelDiff(got, expected)).toBeLessThan(1e-4);
          });
        }
        // The masks must matter, or the comparisons above could not tell them apart.
        const rowOne = fromLayer.data.subarray(rows.length * v, 2 * rows.length * v);
        expect(maxRelDiff(rowOne, clean.logits.data)).toBeGreaterThan(1e-3);
      });
    }

    it('gives the clean logits when run from any layer without masks', async () => {
      const seq = await engine.preparePrompt({ prompt: PROMPT, images: [image] });
      const clean = await runner.cleanPass(seq);
      for (const start of [0, 2, 3]) {
        const input = clean.layerInputs[start]!;
        const out = await runner.runFrom(start, new Tensor('float32', input, [1, seq.seq, seq.hiddenSize]));
        expect(maxRelDiff(out.data, clean.logits.data)).toBeLessThan(1e-6);
      }
    });

    it('refuses a bad start layer, mask or logit row', async () => {
      const seq = await engine.preparePrompt({ prompt: PROMPT, images: [image] });
      const hidden = new Tensor('float32', seq.embeds, [1, seq.seq, seq.hiddenSize]);
      await expect(runner.runFrom(5, hidden)).rejects.toMatchObject({ code: 'E_INPUT_LAYER' });
      await expect(
        runner.runFrom(1, hidden, { masks: new Map([[0, new Float32Array(seq.seq)]]) }),
      ).rejects.toMatchObject({ code: 'E_INPUT_MASK' });
      await expect(
        runner.runFrom(1, hidden, { masks: new Map([[2, new Float32Array(3)]]) }),
      ).rejects.toMatchObject({ code: 'E_INPUT_MASK' });
      await expect(runner.runFrom(0, hidden, { rows: [seq.seq] })).rejects.toMatchObject({
        code: 'E_INPUT_ROWS',
      });
      await expect(
        engine.preparePrompt({ prompt: PROMPT, images: [image], answer: ' ' }),
      ).rejects.toMatchObject({ code: 'E_INPUT_ANSWER' });
    });

    it('stops at an aborted signal', async () => {
      const seq = await engine.preparePrompt({ prompt: PROMPT, images: [image] });
      const controller = new AbortController();
      controller.abort();
      await expect(runner.cleanPass(seq, { signal: controller.signal })).rejects.toMatchObject({
        code: 'E_ABORTED',
      });
    });
  },
);
