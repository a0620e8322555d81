import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashString, Rng } from '../src/index.ts';

function draw(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => rng.nextUint32());
}

describe('Rng', () => {
  it('repeats the same stream for the same key', () => {
    fc.assert(
      fc.property(fc.string(), (key) => {
        expect(draw(new Rng(key), 16)).toEqual(draw(new Rng(key), 16));
      }),
    );
  });

  it('gives unrelated streams for keys one character apart', () => {
    const a = draw(new Rng('train|1|0'), 64);
    const b = draw(new Rng('train|1|1'), 64);
    const same = a.filter((v, i) => v === b[i]).length;
    expect(same).toBe(0);
  });

  it('hashes to four 32-bit words that change with every character', () => {
    const h = hashString('abc');
    for (const word of h) expect(word >>> 0).toBe(word);
    expect(hashString('abd')).not.toEqual(h);
    expect(hashString('abc ')).not.toEqual(h);
  });

  it('keeps int(n) in [0, n) and floats in [0, 1)', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 1000 }), (key, n) => {
        const rng = new Rng(key);
        for (let i = 0; i < 50; i++) {
          const v = rng.int(n);
          expect(Number.isInteger(v) && v >= 0 && v < n).toBe(true);
          const f = rng.float();
          expect(f >= 0 && f < 1).toBe(true);
        }
      }),
    );
  });

  it('is roughly uniform', () => {
    const rng = new Rng('uniformity');
    const bins = new Array(10).fill(0);
    const n = 100_000;
    for (let i = 0; i < n; i++) bins[rng.int(10)]++;
    // Binomial sd per bin is ~95; 6 sd is a test that fails only when the generator is broken.
    for (const count of bins) expect(Math.abs(count - n / 10)).toBeLessThan(600);
  });

  it('shuffles into a permutation without touching the input', () => {
    const input = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    const out = new Rng('shuffle').shuffled(input);
    expect(input).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...out].sort((a, b) => a - b)).toEqual(input);
  });
});
