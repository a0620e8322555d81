import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DecoderDims, denseLayerFlops, frozenLayerFlops, prefillFlops } from '../src/index.ts';

const TERA = 1e12;
// LLaVA-1.5 prefill as the paper counts it: 576 visual tokens, and t = 64 for every other token.
const LLAVA_TOKENS = { visualTokens: 576, textTokens: 64 };
const LLAVA_7B: DecoderDims = {
  hiddenSize: 4096,
  intermediateSize: 11008,
  numLayers: 32,
  numHeads: 32,
  numKvHeads: 32,
};
const LLAVA_13B: DecoderDims = {
  hiddenSize: 5120,
  intermediateSize: 13824,
  numLayers: 40,
  numHeads: 40,
  numKvHeads: 40,
};
const SHORTV_7B = [31, 29, 30, 28, 0, 26, 27, 25, 24, 22, 23, 21, 2, 3, 20, 18, 17, 12, 19];
const SHORTV_13B = [
  39, 32, 28, 36, 27, 37, 29, 30, 1, 38, 25, 31, 2, 26, 23, 34, 0, 33, 35, 22, 24, 21, 20, 17,
];
const frozen = (indices: readonly number[]) => ({ layers: indices.map((index) => ({ index })) });

describe('prefillFlops reproduces the ShortV paper', () => {
  it('LLaVA-1.5-7B: 8.5 TFLOPs dense, 4.7 with the published 19 layers frozen', () => {
    const report = prefillFlops(LLAVA_7B, LLAVA_TOKENS, frozen(SHORTV_7B));
    expect(Math.abs(report.dense / TERA - 8.5)).toBeLessThanOrEqual(0.1);
    expect(Math.abs(report.planned / TERA - 4.7)).toBeLessThanOrEqual(0.1);
    expect(report.ratio).toBeCloseTo(0.55, 2);
  });

  it('LLaVA-1.5-13B: 16.6 TFLOPs dense, 9.1 with the published 24 layers frozen', () => {
    const report = prefillFlops(LLAVA_13B, LLAVA_TOKENS, frozen(SHORTV_13B));
    expect(Math.abs(report.dense / TERA - 16.6)).toBeLessThanOrEqual(0.1);
    expect(Math.abs(report.planned / TERA - 9.1)).toBeLessThanOrEqual(0.1);
  });

  it('LLaVA-1.5-7B peers: FastV K=2 R=50% 4.9 TFLOPs, VTW K=16 4.7 TFLOPs', () => {
    const fastv = prefillFlops(LLAVA_7B, LLAVA_TOKENS, { layers: [], prune: { afterLayer: 1, keep: 0.5 } });
    expect(Math.abs(fastv.planned / TERA - 4.9)).toBeLessThanOrEqual(0.1);
    const vtw = prefillFlops(LLAVA_7B, LLAVA_TOKENS, { layers: [], withdraw: { fromLayer: 16 } });
    expect(Math.abs(vtw.planned / TERA - 4.7)).toBeLessThanOrEqual(0.1);
  });

  it('LLaVA-1.5-7B N sweep: 81%, 62%, 55%, 44% of dense FLOPs at N = 8, 16, 19, 24', () => {
    const published = new Map([
      [8, 0.81],
      [16, 0.62],
      [19, 0.55],
      [24, 0.44],
    ]);
    // The paper's shares are ratios of TFLOPs already rounded to 0.1 (N=24: 3.7 / 8.5 = 43.5% -> 44%,
    // where the unrounded ratio is 43.4%), so the same rounding is applied here.
    const tenths = (flops: number) => Math.round(flops / TERA / 0.1) / 10;
    for (const [count, share] of published) {
      const layers = Array.from({ length: count }, (_, i) => 31 - i);
      const report = prefillFlops(LLAVA_7B, LLAVA_TOKENS, frozen(layers));
      expect(Math.round((tenths(report.planned) / tenths(report.dense)) * 100) / 100).toBe(share);
      expect(Math.abs(report.ratio - share)).toBeLessThan(0.01);
    }
  });
});

describe('layer costs', () => {
  const dims: DecoderDims = {
    hiddenSize: 64,
    intermediateSize: 176,
    numLayers: 4,
    numHeads: 4,
    numKvHeads: 4,
  };
  const tokens = { visualTokens: 30, textTokens: 7 };
  const n = 37;
  const t = 7;
  const d = 64;
  const m = 176;

  it('match the MHA formulas 8nd² + 4n²d + 6ndm and 4nd² + 4td² + 4tnd + 6tdm', () => {
    expect(denseLayerFlops(dims, tokens)).toBe(8 * n * d * d + 4 * n * n * d + 6 * n * d * m);
    expect(frozenLayerFlops(dims, tokens)).toBe(
      4 * n * d * d + 4 * t * d * d + 4 * t * n * d + 6 * t * d * m,
    );
  });

  it('use 4·n·d·d_kv for the K/V projections under grouped-query attention', () => {
    const gqa = { ...dims, numKvHeads: 1 };
    const dkv = 16;
    expect(denseLayerFlops(gqa, tokens)).toBe(
      4 * n * d * dkv + 4 * n * d * d + 4 * n * n * d + 6 * n * d * m,
    );
    expect(frozenLayerFlops(gqa, tokens)).toBe(
      4 * n * d * dkv + 4 * t * d * d + 4 * t * n * d + 6 * t * d * m,
    );
  });

  it('use numHeads·headDim for queries and attention when headDim is given', () => {
    const wide = { ...dims, numKvHeads: 2, headDim: 32 };
    const dq = 128;
    const dkv = 64;
    expect(denseLayerFlops(wide, tokens)).toBe(
      4 * n * d * dkv + 4 * n * d * dq + 4 * n * n * dq + 6 * n * d * m,
    );
  });

  it('agree when there is nothing to freeze', () => {
    const textOnly = { visualTokens: 0, textTokens: 9 };
    expect(frozenLayerFlops(dims, textOnly)).toBe(denseLayerFlops(dims, textOnly));
  });
});

describe('prefillFlops under a plan', () => {
  const dims: DecoderDims = {
    hiddenSize: 64,
    intermediateSize: 176,
    numLayers: 6,
    numHeads: 4,
    numKvHeads: 2,
  };
  const tokens = { visualTokens: 40, textTokens: 8 };

  it('equals dense without a plan', () => {
    const report = prefillFlops(dims, tokens);
    expect(report.planned).toBe(report.dense);
    expect(report.ratio).toBe(1);
    expect(report.perLayer.every((layer) => layer.mode === 'dense' && layer.visualTokens === 40)).toBe(true);
  });

  it('reports each layer: mode, visual tokens present, dense, frozen and planned cost', () => {
    const report = prefillFlops(dims, tokens, {
      layers: [{ index: 1 }, { index: 3 }, { index: 5 }],
      prune: { afterLayer: 1, keep: 0.25 },
      withdraw: { fromLayer: 5 },
    });
    expect(report.perLayer.map((layer) => layer.mode)).toEqual([
      'dense',
      'freeze',
      'dense',
      'freeze',
      'dense',
      'text-only',
    ]);
    expect(report.perLayer.map((layer) => layer.visualTokens)).toEqual([40, 40, 10, 10, 10, 0]);
    const dense = denseLayerFlops(dims, tokens);
    const frozenCost = frozenLayerFlops(dims, tokens);
    const pruned = { visualTokens: 10, textTokens: 8 };
    const textOnly = { visualTokens: 0, textTokens: 8 };
    expect(report.perLayer.map((layer) => layer.planned)).toEqual([
      dense,
      frozenCost,
      denseLayerFlops(dims, pruned),
      frozenLayerFlops(dims, pruned),
      denseLayerFlops(dims, pruned),
      denseLayerFlops(dims, textOnly),
    ]);
    expect(report.perLayer.every((layer) => layer.dense === dense && layer.frozen === frozenCost)).toBe(true);
    expect(report.planned).toBe(report.perLayer.reduce((sum, layer) => sum + layer.planned, 0));
    expect(report.dense).toBe(dense * 6);
  });

  it('keeps ceil(keep·v) visual tokens without float round-up', () => {
    // Both products are 7.000000000000001 in float64, so a bare ceil would keep 8.
    expect(0.07 * 100).toBeGreaterThan(7);
    expect(0.14 * 50).toBeGreaterThan(7);
    const report = prefillFlops(
      dims,
      { visualTokens: 100, textTokens: 2 },
      { layers: [], prune: { afterLayer: 0, keep: 0.07 } },
    );
    expect(report.perLayer[1]!.visualTokens).toBe(7);
    const half = prefillFlops(
      dims,
      { visualTokens: 50, textTokens: 2 },
      { layers: [], prune: { afterLayer: 0, keep: 0.14 } },
    );
    expect(half.perLayer[1]!.visualTokens).toBe(7);
    const odd = prefillFlops(
      dims,
      { visualTokens: 7, textTokens: 2 },
      { layers: [], prune: { afterLayer: 0, keep: 0.5 } },
    );
    expect(odd.perLayer[1]!.visualTokens).toBe(4);
  });

  it('refuses layers outside the model and impossible sizes', () => {
    expect(() => prefillFlops(dims, tokens, frozen([6]))).toThrow(
      expect.objectContaining({ code: 'E_FLOPS_INPUT' }),
    );
    expect(() => prefillFlops(dims, tokens, { layers: [], withdraw: { fromLayer: -1 } })).toThrow(
      expect.objectContaining({ code: 'E_FLOPS_INPUT' }),
    );
    expect(() => prefillFlops({ ...dims, numHeads: 5 }, tokens)).toThrow(
      expect.objectContaining({
        code: 'E_FLOPS_INPUT',
        message: expect.stringContaining('hiddenSize / numHeads'),
      }),
    );
    expect(() => prefillFlops(dims, { visualTokens: 0, textTokens: 0 })).toThrow(
      expect.objectContaining({ code: 'E_FLOPS_INPUT' }),
    );
  });

  it('never costs more than dense, and each frozen layer saves dense - frozen', () => {
    fc.assert(
      fc.property(
        fc.record({
          numLayers: fc.integer({ min: 1, max: 12 }),
          heads: fc.integer({ min: 1, max: 8 }),
          kvDivisor: fc.constantFrom(1, 2, 4, 8),
          headDim: fc.integer({ min: 1, max: 32 }),
          intermediateSize: fc.integer({ min: 1, max: 300 }),
          visualTokens: fc.integer({ min: 0, max: 200 }),
          textTokens: fc.integer({ min: 1, max: 50 }),
          mask: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
        }),
        (c) => {
          const numKvHeads = Math.max(1, Math.floor(c.heads / c.kvDivisor));
          const layerDims = {
            hiddenSize: c.heads * c.headDim,
            intermediateSize: c.intermediateSize,
            numLayers: c.numLayers,
            numHeads: c.heads,
            numKvHeads,
          };
          const indices = c.mask.slice(0, c.numLayers).flatMap((on, i) => (on ? [i] : []));
          const report = prefillFlops(layerDims, c, frozen(indices));
          const saving = report.perLayer[0]!.dense - report.perLayer[0]!.frozen;
          expect(saving).toBeGreaterThanOrEqual(0);
          expect(report.planned).toBe(report.dense - indices.length * saving);
          expect(report.ratio).toBeGreaterThan(0);
          expect(report.ratio).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 200 },
    );
  });
});
