import { openLlavaModel, referenceDecoder } from '@shortv/models';
import type { VlmEngine } from '@shortv/runtime-core';
import { klDivergenceFromLogits, Tensor } from '@shortv/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LcProgress, layerContribution } from '../src/index.ts';
import { KL_NOISE, lcDiff, testPlatforms, tinyEngine, tinySamples } from './helpers.ts';

const [node, wasm] = await testPlatforms();
const samples = tinySamples(3);

const CONFIGS = [
  { label: 'GQA (4 heads, 2 kv heads)', options: { numKvHeads: 2, numLayers: 4, seed: 5 } },
  { label: 'MHA (4 heads)', options: { numKvHeads: 4, numLayers: 4, seed: 6 } },
] as const;

describe.each(CONFIGS)('LC on a tiny $label model', ({ label, options }) => {
  let engine: VlmEngine;
  let folder: Awaited<ReturnType<typeof tinyEngine>>['folder'];

  beforeAll(async () => {
    ({ engine, folder } = await tinyEngine(node!, options));
  });
  afterAll(() => engine.dispose());

  for (const aggregation of ['first', 'all'] as const) {
    it(`prefix-cached LC equals the naive full-forward LC (${aggregation} answer tokens)`, async () => {
      const naive = await layerContribution(engine, samples, {
        aggregation,
        schedule: 'naive',
        perSample: true,
      });
      // maxBatch 2: one run of 2 rows per layer; 4: waves of two start layers; 16: one sweep of all four.
      for (const maxBatch of [2, 4, 16]) {
        const cached = await layerContribution(engine, samples, { aggregation, maxBatch, perSample: true });
        const visualDiff = lcDiff(cached.visual, naive.visual);
        const textDiff = lcDiff(cached.text, naive.text);
        console.log(
          `${label} ${aggregation} maxBatch ${maxBatch}: prefix vs naive max relative diff visual ${visualDiff.relative.toExponential(2)}, text ${textDiff.relative.toExponential(2)}; below ${KL_NOISE} max abs diff ${Math.max(visualDiff.absolute, textDiff.absolute).toExponential(2)}; visual LC [${cached.visual.map((v) => v.toExponential(3))}]`,
        );
        for (const diff of [visualDiff, textDiff]) {
          expect(diff.relative).toBeLessThanOrEqual(1e-5);
          expect(diff.absolute).toBeLessThanOrEqual(1e-12);
        }
        cached.perSample!.forEach((s, i) => {
          for (const group of ['visual', 'text'] as const) {
            const diff = lcDiff(s[group], naive.perSample![i]![group]);
            expect(diff.relative).toBeLessThanOrEqual(1e-5);
            expect(diff.absolute).toBeLessThanOrEqual(1e-12);
          }
        });
        // Ablations must move the output, or equality would prove nothing.
        expect(Math.max(...cached.visual)).toBeGreaterThan(1e-4);
        expect(Math.min(...cached.text)).toBeGreaterThan(1e-4);
        expect(cached.metric).toBe(
          aggregation === 'first' ? 'kl(p_mod||p)@answer[0]' : 'kl(p_mod||p)@answer[all]',
        );
        expect(cached.samples).toBe(3);
        expect(cached.model).toEqual({
          architecture: 'llava',
          numLayers: 4,
          hiddenSize: 32,
          fingerprint: engine.fingerprint,
        });
        expect(cached.tokens.visualTokens).toBe(16);
      }
    });
  }

  it('visual updates of the last layer cannot reach the last prompt position', async () => {
    const lc = await layerContribution(engine, samples);
    expect(lc.visual[3]).toBeLessThanOrEqual(KL_NOISE);
    // A layer's update of a row reaches other rows only through later layers, so this holds for answer rows too.
    const all = await layerContribution(engine, samples, { aggregation: 'all' });
    expect(all.visual[3]).toBeLessThanOrEqual(KL_NOISE);
    // Text rows' last-layer updates include the scored row's own update.
    expect(lc.text[3]).toBeGreaterThan(1e-4);
  });

  it('equals the plain-TS reference (float64) for one layer, in both KL directions', async () => {
    const model = await openLlavaModel(folder);
    const weights = await model.weights.readAll();
    const layer = 1;
    const sample = samples[0]!;
    const seq = await engine.preparePrompt({ prompt: sample.prompt, images: sample.images });
    const S = seq.seq;
    const config = engine.config;
    const V = config.text.vocabSize;
    const lastRow = (updateMask?: (l: number, b: number, row: number) => number) => {
      const out = referenceDecoder(config, weights, {
        inputsEmbeds: new Tensor('float32', seq.embeds, [1, S, config.text.hiddenSize]),
        positionIds: [Array.from({ length: S }, (_, i) => i)],
        ...(updateMask ? { updateMask } : {}),
      });
      return out.logits.subarray((S - 1) * V, S * V);
    };
    const clean = lastRow();
    const ablated = {
      visual: lastRow((l, _b, row) => (l === layer && seq.visual[row] ? 0 : 1)),
      text: lastRow((l, _b, row) => (l === layer && !seq.visual[row] ? 0 : 1)),
    };
    for (const direction of ['mod||orig', 'orig||mod'] as const) {
      const lc = await layerContribution(engine, [sample], { direction });
      for (const group of ['visual', 'text'] as const) {
        const expected =
          direction === 'mod||orig'
            ? klDivergenceFromLogits(ablated[group], clean)
            : klDivergenceFromLogits(clean, ablated[group]);
        const relative = Math.abs(lc[group][layer]! - expected) / expected;
        console.log(
          `${label} layer ${layer} ${group} ${direction}: ORT ${lc[group][layer]!.toExponential(6)}, reference ${expected.toExponential(6)}, relative diff ${relative.toExponential(2)}`,
        );
        expect(expected).toBeGreaterThan(1e-6);
        expect(relative).toBeLessThan(1e-5);
      }
    }
  });
});

describe('LC runs', () => {
  let engine: VlmEngine;

  beforeAll(async () => {
    ({ engine } = await tinyEngine(node!, CONFIGS[0].options));
  });
  afterAll(() => engine.dispose());

  it('gives identical output for the same data and seed, and a seeded pick of samples', async () => {
    const many = tinySamples(5);
    const a = await layerContribution(engine, many, { limit: 3, seed: 7, perSample: true });
    const b = await layerContribution(engine, many, { limit: 3, seed: 7, perSample: true });
    expect(a.visual).toEqual(b.visual);
    expect(a.text).toEqual(b.text);
    const picked = a.perSample!.map((s) => s.index);
    expect(picked).toEqual(b.perSample!.map((s) => s.index));
    expect(picked.length).toBe(3);
    expect([...picked].sort((x, y) => x - y)).toEqual(picked);
    const otherPicks = new Set<string>();
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const lc = await layerContribution(engine, many, {
        limit: 3,
        seed,
        perSample: true,
        schedule: 'prefix',
      });
      otherPicks.add(lc.perSample!.map((s) => s.index).join(','));
      expect(lc.calibration.seed).toBe(seed);
    }
    expect(otherPicks.size).toBeGreaterThan(1);
    // The mean is the mean of the per-sample values.
    a.visual.forEach((v, l) => {
      const mean = a.perSample!.reduce((sum, s) => sum + s.visual[l]!, 0) / 3;
      expect(v).toBeCloseTo(mean, 12);
    });
  });

  it('reports progress: one clean pass and one event per layer for each sample, in order', async () => {
    const events: LcProgress[] = [];
    await layerContribution(engine, samples.slice(0, 2), { onProgress: (e) => events.push(e) });
    const expected: LcProgress[] = [];
    for (const sample of [0, 1]) {
      expected.push({ sample, samples: 2, layer: null, layers: 4, phase: 'clean' });
      for (const layer of [0, 1, 2, 3])
        expected.push({ sample, samples: 2, layer, layers: 4, phase: 'layer' });
    }
    expect(events).toEqual(expected);
  });

  it('throws E_ABORTED and returns nothing when aborted mid-run', async () => {
    for (const [schedule, maxBatch] of [
      ['prefix', 16],
      ['prefix', 2],
      ['naive', 2],
    ] as const) {
      const controller = new AbortController();
      let seen = 0;
      const run = layerContribution(engine, samples, {
        schedule,
        maxBatch,
        signal: controller.signal,
        onProgress: () => {
          seen++;
          if (seen === 3) controller.abort();
        },
      });
      await expect(run).rejects.toMatchObject({ code: 'E_ABORTED' });
      expect(seen).toBe(3);
    }
  });

  it('refuses empty data, samples without an image and unknown options', async () => {
    await expect(layerContribution(engine, [])).rejects.toMatchObject({ code: 'E_INPUT_SAMPLES' });
    await expect(
      layerContribution(engine, [{ prompt: 'what is the circle?', images: [] }]),
    ).rejects.toMatchObject({ code: 'E_INPUT_SAMPLE' });
    await expect(layerContribution(engine, samples, { direction: 'p||q' as never })).rejects.toMatchObject({
      code: 'E_INPUT_OPTION',
    });
    await expect(layerContribution(engine, samples, { limit: 0 })).rejects.toMatchObject({
      code: 'E_INPUT_OPTION',
    });
    await expect(layerContribution(engine, samples, { maxBatch: 1 })).rejects.toMatchObject({
      code: 'E_INPUT_OPTION',
    });
  });
});

describe('LC on onnxruntime-web (wasm)', () => {
  it('matches onnxruntime-node', async () => {
    const { engine: onNode } = await tinyEngine(node!, CONFIGS[0].options);
    const { engine: onWasm } = await tinyEngine(wasm!, CONFIGS[0].options);
    const a = await layerContribution(onNode, samples.slice(0, 1));
    const b = await layerContribution(onWasm, samples.slice(0, 1));
    for (const group of ['visual', 'text'] as const) {
      const diff = lcDiff(b[group], a[group]);
      expect(diff.relative).toBeLessThan(1e-3);
      expect(diff.absolute).toBeLessThan(1e-12);
    }
    await onNode.dispose();
    await onWasm.dispose();
  });
});
