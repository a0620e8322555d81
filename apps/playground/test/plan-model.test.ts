import { type LcScores, selectByCount, selectByFlops } from '@shortv/lc';
import { parsePlan, serializePlan } from '@shortv/plan';
import { describe, expect, it } from 'vitest';
import {
  draftPlan,
  exportPlan,
  flopsRatio,
  importPlan,
  layersForFlops,
  lowestLcLayers,
  type PlanTarget,
  toggleLayer,
} from '../src/plan-model.ts';

const dims = {
  hiddenSize: 256,
  intermediateSize: 688,
  numLayers: 6,
  numHeads: 4,
  numKvHeads: 4,
  headDim: 64,
};
const target: PlanTarget = {
  identity: { numLayers: 6, fingerprint: `sha256:${'a'.repeat(64)}`, architecture: 'llava', hiddenSize: 256 },
  dims,
  tokens: { visualTokens: 144, textTokens: 30 },
};
const lc: LcScores = {
  visual: [1e-5, 0.3, 0.02, 1e-4, 0.5, 0],
  text: [2, 3, 1, 0.5, 0.7, 0.1],
  metric: 'kl(p_mod||p)@answer[0]',
  samples: 8,
  model: { architecture: 'llava', numLayers: 6, hiddenSize: 256, fingerprint: target.identity.fingerprint },
  dims,
  tokens: { visualTokens: 144, textTokens: 28 },
  calibration: { dataset: 'shapes-calibration', samples: 8, seed: 3, createdWith: 'shortv 0.0.0' },
};

describe('the plan editor model', () => {
  it('picks the N lowest-LC layers and the FLOPs target as `shortv plan` does', () => {
    expect(lowestLcLayers(lc, 3)).toEqual([0, 3, 5]);
    expect(lowestLcLayers(lc, 3)).toEqual(
      selectByCount(lc, 3)
        .layers.map((l) => l.index)
        .sort((a, b) => a - b),
    );
    const byFlops = selectByFlops(lc, 0.7, dims, target.tokens).layers.map((l) => l.index);
    expect(layersForFlops(lc, target, 0.7)).toEqual([...byFlops].sort((a, b) => a - b));
    expect(flopsRatio(target, layersForFlops(lc, target, 0.7))).toBeLessThanOrEqual(0.7);
  });

  it('exports exactly the bytes `shortv plan` writes for the same scores and layers', () => {
    const cli = serializePlan(selectByCount(lc, 4));
    expect(exportPlan(target, { lc, frozen: lowestLcLayers(lc, 4) })).toBe(cli);
  });

  it('reads a CLI plan back into the same draft and the same bytes', () => {
    const cli = serializePlan(selectByCount(lc, 2));
    const { draft } = importPlan(target, cli);
    expect(draft.frozen).toEqual([0, 5]);
    expect(draft.lc?.visual).toEqual(lc.visual);
    expect(exportPlan(target, draft)).toBe(cli);
  });

  it('writes a plan without LC that the plan package accepts, with its FLOPs estimate', () => {
    const plan = draftPlan(target, { lc: null, frozen: [4, 1] });
    expect(plan.layers.map((l) => l.index)).toEqual([1, 4]);
    expect(plan.lc).toBeNull();
    expect(plan.estimate?.flopsRatio).toBeCloseTo(flopsRatio(target, [1, 4]), 12);
    expect(parsePlan(exportPlan(target, { lc: null, frozen: [4, 1] }))).toEqual(plan);
  });

  it('toggles layers, keeping them sorted', () => {
    expect(toggleLayer([1, 4], 2)).toEqual([1, 2, 4]);
    expect(toggleLayer([1, 2, 4], 2)).toEqual([1, 4]);
  });

  it('refuses a malformed plan with its JSON path, and a plan for another model', () => {
    const good = JSON.parse(serializePlan(selectByCount(lc, 2))) as { layers: { index: number }[] };
    good.layers[1]!.index = 6;
    expect(() => importPlan(target, JSON.stringify(good))).toThrow(/\$\.layers\[1\]\.index/);
    expect(() => importPlan(target, '{"format":')).toThrow(/not valid JSON/);
    const other = { ...target, identity: { ...target.identity, fingerprint: `sha256:${'b'.repeat(64)}` } };
    expect(() => importPlan(other, serializePlan(selectByCount(lc, 2)))).toThrow(/fingerprint/);
  });
});
