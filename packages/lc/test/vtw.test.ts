import { openLlavaModel, referencePrunedDecoder } from '@shortv/models';
import { klDivergenceFromLogits, Tensor } from '@shortv/tensor';
import { describe, expect, it } from 'vitest';
import { searchVtwLayer } from '../src/index.ts';
import { testPlatforms, tinyEngine, tinySamples } from './helpers.ts';

const MODEL = { numKvHeads: 2, numLayers: 4, seed: 11 } as const;

describe('VTW layer search', () => {
  it('measures KL(P_withdrawn || P) per layer as the plain reference does, and picks the first layer within eta', async () => {
    const [platform] = await testPlatforms();
    const { engine, folder, config } = await tinyEngine(platform!, MODEL);
    const samples = tinySamples(2);
    const full = await searchVtwLayer(engine, samples, { eta: 0 });
    expect(full.fromLayer).toBeNull();
    expect(full.tried.map((t) => t.fromLayer)).toEqual([0, 1, 2, 3]);
    expect(full.passes).toBe(2 * 5);
    expect(engine.activePlan).toBeNull();

    // The plain-TS forward with visual rows removed from layer K on, on the engine's own decoder input rows.
    const model = await openLlavaModel(folder);
    const weights = await model.weights.readAll();
    const reference = [0, 1, 2, 3].map(() => 0);
    for (const sample of samples) {
      const prepared = await engine.preparePrompt({ prompt: sample.prompt, images: sample.images });
      const input = {
        inputsEmbeds: new Tensor('float32', prepared.embeds, [1, prepared.seq, config.text.hiddenSize]),
        positionIds: Array.from({ length: prepared.seq }, (_, i) => i),
        visual: prepared.visual,
      };
      const dense = referencePrunedDecoder(config, weights, input).lastLogits;
      for (let k = 0; k < 4; k++) {
        const withdrawn = referencePrunedDecoder(config, weights, {
          ...input,
          withdraw: { fromLayer: k },
        }).lastLogits;
        reference[k]! += klDivergenceFromLogits(withdrawn, dense) / samples.length;
      }
    }
    full.tried.forEach((t, k) => {
      expect(t.kl).toBeGreaterThan(0);
      expect(Math.abs(t.kl - reference[k]!) / reference[k]!).toBeLessThan(1e-3);
    });

    const best = Math.min(...full.tried.map((t) => t.kl));
    const expected = full.tried.findIndex((t) => t.kl <= best * 1.0000001);
    const picked = await searchVtwLayer(engine, samples, { eta: best * 1.0000001 });
    expect(picked.fromLayer).toBe(expected);
    expect(picked.tried).toHaveLength(expected + 1);
    expect(picked.passes).toBe(2 * (expected + 2));
    await engine.dispose();
  }, 60_000);
});
