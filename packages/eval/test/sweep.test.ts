import { VlmEngine } from '@shortv/runtime-core';
import { nodeTestPlatform, tinyModelFolder } from '@shortv/runtime-core/testing';
import { argmax, Tensor } from '@shortv/tensor';
import { describe, expect, it } from 'vitest';
import { type EvalSample, sweepLayerChoices } from '../src/index.ts';
import { tinySamples } from './helpers/tiny-model.ts';

describe('layer-choice N-sweep', () => {
  it('matches one full masked pass per set, shares layer runs, and scores the dense answers as right at N = 0', async () => {
    const platform = await nodeTestPlatform();
    const engine = await VlmEngine.load(tinyModelFolder({ numKvHeads: 2, numLayers: 4, seed: 3 }).folder, {
      platform,
    });
    // Reference answers: the dense model's own greedy answers, so N = 0 must score 1.
    const samples: EvalSample[] = [];
    for (const s of tinySamples(4)) {
      const dense = await engine.run({ prompt: s.question, images: [await s.loadImage()], maxNewTokens: 3 });
      samples.push({ ...s, answer: dense.text.trim() || 'red' });
    }
    const rules = [
      { label: 'first', orders: [[0, 1, 2, 3]] },
      { label: 'last', orders: [[3, 2, 1, 0]] },
      {
        label: 'two orders',
        orders: [
          [2, 0, 3, 1],
          [1, 3, 0, 2],
        ],
      },
    ];
    const result = await sweepLayerChoices(engine, samples, rules);
    expect(result.rules.map((r) => r.points[0]!.accuracy)).toEqual([1, 1, 1]);
    expect(result.layerRuns).toBeLessThan(result.naiveLayerRuns);

    // Each point from independent full passes with every frozen layer masked.
    const runner = engine.layerwise();
    const rightWith = async (layers: readonly number[]) => {
      let right = 0;
      for (const s of samples) {
        const p = await engine.preparePrompt({
          prompt: s.question,
          images: [await s.loadImage()],
          answer: s.answer,
        });
        const mask = Float32Array.from(p.visual, (v) => (v ? 0 : 1));
        const logits = await runner.runFull(new Tensor('float32', p.embeds, [1, p.seq, p.hiddenSize]), {
          masks: new Map(layers.map((l) => [l, mask])),
          rows: p.scoreRows,
        });
        const v = logits.dims[2]!;
        if (p.answerIds.every((id, k) => argmax(logits.data.subarray(k * v, (k + 1) * v)) === id)) right++;
      }
      return right / samples.length;
    };
    for (const [r, rule] of rules.entries()) {
      for (let n = 0; n <= 4; n++) {
        let expected = 0;
        for (const order of rule.orders)
          expected += (await rightWith(order.slice(0, n))) / rule.orders.length;
        expect(result.rules[r]!.points[n]!.accuracy, `${rule.label} N=${n}`).toBeCloseTo(expected, 12);
      }
    }
    await engine.dispose();
  }, 120_000);
});
