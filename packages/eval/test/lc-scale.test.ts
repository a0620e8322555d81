import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { logScale } from '../src/index.ts';

describe('logScale', () => {
  it('spans whole decades around the values and gives the smallest a visible bar', () => {
    const scale = logScale([1e-4, 0.03, 2.5, 0]);
    expect([scale.lo, scale.hi]).toEqual([-5, 1]);
    expect(scale.decades).toEqual([-5, -4, -3, -2, -1, 0, 1]);
    expect(scale.position(1e-4)).toBeCloseTo(1 / 6, 12);
    expect(scale.position(0)).toBe(0);
    expect(scale.position(-1e-9)).toBe(0);
    expect(scale.position(10)).toBe(1);
  });

  it('caps the axis at 12 decades so rounding noise does not squash the chart', () => {
    const scale = logScale([1e-30, 1]);
    expect(scale.hi - scale.lo).toBe(12);
    expect(scale.position(1e-30)).toBe(0);
  });

  it('keeps positive values within the 12-decade span inside (0, 1] and in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1e-7, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 20 }),
        (xs) => {
          const scale = logScale(xs);
          const sorted = [...xs].sort((a, b) => a - b);
          const positions = sorted.map((x) => scale.position(x));
          for (const p of positions) {
            expect(p).toBeGreaterThan(0);
            expect(p).toBeLessThanOrEqual(1);
          }
          for (let i = 1; i < positions.length; i++)
            expect(positions[i]).toBeGreaterThanOrEqual(positions[i - 1]!);
        },
      ),
    );
  });

  it('has a default axis when nothing is positive', () => {
    const scale = logScale([0, 0]);
    expect(scale.hi).toBeGreaterThan(scale.lo);
  });
});
