import { type FreezePlan, parsePlan, prefillFlops, serializePlan } from '@shortv/plan';
import { describe, expect, it } from 'vitest';
import {
  type LcScores,
  parseLc,
  rankLayers,
  selectByCount,
  selectByFlops,
  selectByValidation,
  serializeLc,
} from '../src/index.ts';

const FINGERPRINT = `sha256:${'ab'.repeat(32)}`;

/** LC of a 12-layer model shaped like the paper's: late and early layers matter least for visual tokens. */
function scores(visual: number[]): LcScores {
  const L = visual.length;
  return {
    visual,
    text: visual.map((v) => v * 10 + 0.5),
    metric: 'kl(p_mod||p)@answer[0]',
    samples: 40,
    model: { architecture: 'llava', numLayers: L, hiddenSize: 128, fingerprint: FINGERPRINT },
    dims: { hiddenSize: 128, intermediateSize: 384, numLayers: L, numHeads: 4, numKvHeads: 2, headDim: 32 },
    tokens: { visualTokens: 144, textTokens: 16 },
    calibration: { dataset: 'shapes-calibration', samples: 40, seed: 0, createdWith: '@shortv/lc' },
  };
}

const LC = scores([0.012, 0.41, 0.29, 0.2, 0.16, 0.13, 0.1, 0.052, 0.061, 0.047, 0.008, 0]);

const frozen = (plan: FreezePlan) => plan.layers.map((l) => l.index);

describe('selectByCount', () => {
  it('freezes the N lowest visual LC layers, round(0.6 L) by default, in a valid plan carrying LC and provenance', () => {
    const plan = selectByCount(LC);
    expect(frozen(plan)).toEqual([0, 6, 7, 8, 9, 10, 11]);
    expect(parsePlan(serializePlan(plan))).toEqual(plan);
    expect(plan.lc).toEqual({
      visual: LC.visual,
      text: LC.text,
      metric: LC.metric,
      direction: 'ascending',
      samples: 40,
    });
    expect(plan.calibration).toEqual(LC.calibration);
    expect(plan.model).toEqual(LC.model);
    const expected = prefillFlops(LC.dims, LC.tokens, plan).ratio;
    expect(plan.estimate).toEqual({ visualTokens: 144, textTokens: 16, flopsRatio: expected });
    expect(plan.estimate!.flopsRatio).toBeLessThan(1);
    expect(frozen(selectByCount(LC, 3))).toEqual([0, 10, 11]);
    expect(frozen(selectByCount(LC, 0))).toEqual([]);
    expect(selectByCount(LC, 0).estimate!.flopsRatio).toBe(1);
    expect(frozen(selectByCount(LC, 12))).toHaveLength(12);
  });

  it('breaks ties by the higher layer index first', () => {
    const tied = scores([0.1, 0.05, 0.05, 0.3, 0.05, 0.2]);
    expect(rankLayers(tied)).toEqual([4, 2, 1, 0, 5, 3]);
    expect(frozen(selectByCount(tied, 2))).toEqual([2, 4]);
  });

  it('refuses a count outside 0..L and LC of another model', () => {
    for (const bad of [13, -1, 2.5]) {
      expect(() => selectByCount(LC, bad)).toThrow(expect.objectContaining({ code: 'E_INPUT_COUNT' }));
    }
    expect(() =>
      selectByCount(LC, 3, { model: { numLayers: 12, fingerprint: `sha256:${'cd'.repeat(32)}` } }),
    ).toThrow(expect.objectContaining({ code: 'E_INPUT_LC_MODEL' }));
    expect(() => selectByCount(LC, 3, { model: { numLayers: 32, fingerprint: FINGERPRINT } })).toThrow(
      /12 layers, this model has 32/,
    );
    expect(frozen(selectByCount(LC, 3, { model: { numLayers: 12, fingerprint: FINGERPRINT } }))).toHaveLength(
      3,
    );
    expect(() => selectByCount({ ...LC, visual: LC.visual.slice(1) })).toThrow(
      expect.objectContaining({ code: 'E_INPUT_LC' }),
    );
    expect(() => selectByCount({ ...LC, text: [...LC.text.slice(1), Number.NaN] })).toThrow(
      expect.objectContaining({ code: 'E_INPUT_LC' }),
    );
  });
});

describe('selectByFlops', () => {
  it('takes the fewest layers in LC order that reach the target ratio', () => {
    for (const target of [0.95, 0.8, 0.7, 0.6]) {
      const plan = selectByFlops(LC, target);
      const n = plan.layers.length;
      const order = rankLayers(LC);
      expect(frozen(plan)).toEqual(order.slice(0, n).sort((a, b) => a - b));
      expect(plan.estimate!.flopsRatio).toBeLessThanOrEqual(target);
      const oneFewer = prefillFlops(LC.dims, LC.tokens, {
        layers: order.slice(0, n - 1).map((index) => ({ index })),
      }).ratio;
      expect(oneFewer).toBeGreaterThan(target);
    }
    expect(selectByFlops(LC, 1).layers).toEqual([]);
  });

  it('uses the given dims and token counts', () => {
    const fewText = selectByFlops(LC, 0.7, LC.dims, { visualTokens: 576, textTokens: 8 });
    const manyText = selectByFlops(LC, 0.7, LC.dims, { visualTokens: 64, textTokens: 64 });
    expect(fewText.estimate!.visualTokens).toBe(576);
    expect(fewText.layers.length).toBeLessThan(manyText.layers.length);
  });

  it('refuses a ratio outside (0, 1], an unreachable one, and dims of another model', () => {
    for (const bad of [0, -0.5, 1.2, Number.NaN]) {
      expect(() => selectByFlops(LC, bad)).toThrow(expect.objectContaining({ code: 'E_INPUT_RATIO' }));
    }
    expect(() => selectByFlops(LC, 0.1)).toThrow(
      expect.objectContaining({
        code: 'E_INPUT_RATIO_UNREACHABLE',
        message: expect.stringMatching(/0\.1 cannot be reached/),
      }),
    );
    expect(() => selectByFlops(LC, 0.7, { ...LC.dims, numLayers: 32 })).toThrow(
      expect.objectContaining({ code: 'E_INPUT_LC_MODEL' }),
    );
  });
});

describe('selectByValidation', () => {
  it('adds layers in LC order while agreement stays at or above the threshold', async () => {
    const seen: number[][] = [];
    // A held-out agreement that falls by 4 points per frozen layer.
    const plan = await selectByValidation(
      LC,
      (candidate, layers) => {
        expect(frozen(candidate)).toEqual([...layers].sort((a, b) => a - b));
        seen.push([...layers]);
        return 1 - 0.04 * layers.length;
      },
      { threshold: 0.8 },
    );
    const order = rankLayers(LC);
    expect(frozen(plan)).toEqual(order.slice(0, 5).sort((a, b) => a - b));
    expect(seen).toEqual(Array.from({ length: 6 }, (_, i) => order.slice(0, i + 1)));
    const all = await selectByValidation(LC, async () => 1, { threshold: 1 });
    expect(all.layers).toHaveLength(12);
    const none = await selectByValidation(LC, () => 0.5, { threshold: 0.9 });
    expect(none.layers).toEqual([]);
  });

  it('refuses a bad threshold or agreement', async () => {
    await expect(selectByValidation(LC, () => 1, { threshold: 1.5 })).rejects.toMatchObject({
      code: 'E_INPUT_THRESHOLD',
    });
    await expect(selectByValidation(LC, () => 2, { threshold: 0.5 })).rejects.toMatchObject({
      code: 'E_INPUT_AGREEMENT',
    });
  });
});

describe('lc.json', () => {
  it('round-trips through serializeLc / parseLc and names the first bad field', () => {
    expect(parseLc(serializeLc(LC))).toEqual(LC);
    expect(() => parseLc('{')).toThrow(expect.objectContaining({ code: 'E_INPUT_LC' }));
    expect(() => parseLc({ ...LC, visual: [1, 2] })).toThrow(/\$\.visual should be 12 values/);
    expect(() => parseLc({ ...LC, model: { ...LC.model, numLayers: 0 } })).toThrow(/\$\.model\.numLayers/);
  });
});
