import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { argmax, klDivergenceFromLogits, logSoftmax, softmax, topK } from '../src/index.ts';

describe('softmax / logSoftmax', () => {
  it('matches a hand computation', () => {
    // exp(0), exp(ln 3) -> 1 : 3
    const p = softmax([0, Math.log(3)]);
    expect(p[0]).toBeCloseTo(0.25, 15);
    expect(p[1]).toBeCloseTo(0.75, 15);
    const log = logSoftmax([0, Math.log(3)]);
    expect(log[0]).toBeCloseTo(Math.log(0.25), 15);
    expect(log[1]).toBeCloseTo(Math.log(0.75), 15);
  });

  it('is stable for logits of magnitude 1e4 and accepts Float32Array', () => {
    const logits = new Float32Array([10000, 10000 - Math.log(3)]);
    // float32 moves the second logit by up to half an ulp (2^-11), so compare with the stored gap.
    const gap = logits[0]! - logits[1]!;
    expect(Math.abs(gap - Math.log(3))).toBeLessThan(2 ** -10);
    expect(softmax(logits)[0]).toBeCloseTo(1 / (1 + Math.exp(-gap)), 14);
    const extreme = softmax([1e4, -1e4]);
    expect(Array.from(extreme)).toEqual([1, 0]);
    expect(logSoftmax([1e4, -1e4])[1]).toBe(-2e4);
  });

  it('is invariant to shifting all logits', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -50, max: 50, noNaN: true }), { minLength: 1, maxLength: 20 }),
        fc.double({ min: -1e3, max: 1e3, noNaN: true }),
        (row, shift) => {
          const a = softmax(row);
          const b = softmax(row.map((v) => v + shift));
          a.forEach((v, i) => {
            expect(Math.abs(v - b[i]!)).toBeLessThan(1e-9);
          });
        },
      ),
      { numRuns: 200, seed: 7 },
    );
  });

  it('treats -Infinity as probability zero and refuses NaN, +Infinity and all -Infinity', () => {
    expect(Array.from(softmax([0, -Infinity]))).toEqual([1, 0]);
    expect(() => softmax([0, Number.NaN])).toThrow(expect.objectContaining({ code: 'E_MATH_LOGITS' }));
    expect(() => softmax([Infinity, 0])).toThrow(expect.objectContaining({ code: 'E_MATH_LOGITS' }));
    expect(() => logSoftmax([-Infinity, -Infinity])).toThrow(
      expect.objectContaining({ code: 'E_MATH_LOGITS' }),
    );
    expect(() => softmax([])).toThrow(expect.objectContaining({ code: 'E_MATH_EMPTY' }));
  });
});

describe('klDivergenceFromLogits', () => {
  it('is 0 for identical and for shifted rows', () => {
    expect(klDivergenceFromLogits([1, 2, 3], [1, 2, 3])).toBe(0);
    expect(klDivergenceFromLogits([1, 2, 3], [101, 102, 103])).toBeLessThan(1e-15);
  });

  it('matches a hand computation on two-outcome distributions, in both directions', () => {
    // P = (1/4, 3/4), Q = (1/2, 1/2):
    // KL(P||Q) = 1/4 ln(1/2) + 3/4 ln(3/2) = 0.130812035941137...
    // KL(Q||P) = 1/2 ln 2 + 1/2 ln(2/3)   = 0.143841036225890...
    const p = [0, Math.log(3)];
    const q = [5, 5];
    expect(klDivergenceFromLogits(p, q)).toBeCloseTo(0.25 * Math.log(0.5) + 0.75 * Math.log(1.5), 14);
    expect(klDivergenceFromLogits(p, q)).toBeCloseTo(0.130812035941137, 12);
    expect(klDivergenceFromLogits(q, p)).toBeCloseTo(0.14384103622589, 12);
  });

  it('stays finite and exact for logits of magnitude 1e4 (never NaN)', () => {
    // P puts all mass on outcome 0, Q = (e^-1 / (1 + e^-1), ...) ~ logit gap 1: KL = -log Q_0 = log(1 + e^-1).
    const kl = klDivergenceFromLogits([1e4, -1e4], [1e4, 1e4 - 1]);
    expect(kl).toBeCloseTo(Math.log(1 + Math.exp(-1)), 12);
    // Q gives outcome 0 probability e^-20000, which underflows, but log Q does not: KL = 20000.
    expect(klDivergenceFromLogits([1e4, -1e4], [-1e4, 1e4])).toBe(2e4);
  });

  it('is +Infinity when P has mass where Q has none, and 0 terms where P has none', () => {
    expect(klDivergenceFromLogits([0, 0], [0, -Infinity])).toBe(Infinity);
    expect(klDivergenceFromLogits([0, -Infinity], [0, 0])).toBeCloseTo(Math.log(2), 15);
  });

  it('is non-negative and never NaN on random rows', () => {
    const row = fc.array(fc.double({ min: -1e4, max: 1e4, noNaN: true }), { minLength: 3, maxLength: 3 });
    fc.assert(
      fc.property(row, row, (p, q) => {
        const kl = klDivergenceFromLogits(p, q);
        expect(Number.isNaN(kl)).toBe(false);
        expect(kl).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 300, seed: 11 },
    );
  });

  it('refuses rows of different length', () => {
    expect(() => klDivergenceFromLogits([1, 2], [1, 2, 3])).toThrow(
      expect.objectContaining({ code: 'E_MATH_SHAPE' }),
    );
  });
});

describe('argmax and topK', () => {
  it('argmax takes the first of equal maxima and skips NaN', () => {
    expect(argmax([1, 5, 5, 2])).toBe(1);
    expect(argmax([Number.NaN, -1, -3])).toBe(1);
    expect(argmax([-Infinity, -Infinity])).toBe(0);
    expect(() => argmax([Number.NaN])).toThrow(expect.objectContaining({ code: 'E_MATH_LOGITS' }));
  });

  it('orders by value then by lower index, NaN last', () => {
    const values = new Float32Array([3, 7, 7, 1, Number.NaN, 7, 3]);
    expect(topK(values, 4)).toEqual({ indices: [1, 2, 5, 0], values: [7, 7, 7, 3] });
    expect(topK(values, 100).indices).toEqual([1, 2, 5, 0, 6, 3, 4]);
    expect(topK(values, 0)).toEqual({ indices: [], values: [] });
    expect(() => topK(values, 1.5)).toThrow(expect.objectContaining({ code: 'E_MATH_ARGUMENT' }));
  });

  it('the small-k buffer and the full sort agree with a reference ordering', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 0, maxLength: 200 }),
        fc.integer({ min: 0, max: 210 }),
        (values, k) => {
          const expected = values
            .map((v, i) => ({ v, i }))
            .sort((a, b) => b.v - a.v || a.i - b.i)
            .slice(0, k)
            .map((x) => x.i);
          expect(topK(values, k).indices).toEqual(expected);
        },
      ),
      { numRuns: 300, seed: 3 },
    );
  });
});
