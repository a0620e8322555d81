import { describe, expect, it } from 'vitest';
import { createSampler } from '../src/index.ts';

const logits = new Float32Array([1, 3, 2, 0.5]);

function histogram(sample: (l: Float32Array) => number, n: number): number[] {
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) counts[sample(logits)]!++;
  return counts;
}

describe('createSampler', () => {
  it('is greedy at temperature 0', () => {
    expect(createSampler()(logits)).toBe(1);
  });

  it('reproduces the same tokens for the same seed and differs for another', () => {
    const a = histogram(createSampler({ temperature: 1, seed: 7 }), 50);
    const b = histogram(createSampler({ temperature: 1, seed: 7 }), 50);
    expect(a).toEqual(b);
    const seqA = Array.from(
      { length: 30 },
      (
        (s) => () =>
          s(logits)
      )(createSampler({ temperature: 1, seed: 1 })),
    );
    const seqB = Array.from(
      { length: 30 },
      (
        (s) => () =>
          s(logits)
      )(createSampler({ temperature: 1, seed: 2 })),
    );
    expect(seqA).not.toEqual(seqB);
  });

  it('samples in proportion to softmax(logits / T)', () => {
    const n = 20000;
    const counts = histogram(createSampler({ temperature: 1, seed: 3 }), n);
    const z = Array.from(logits, (l) => Math.exp(l));
    const total = z.reduce((a, b) => a + b, 0);
    counts.forEach((c, i) => {
      expect(Math.abs(c / n - z[i]! / total)).toBeLessThan(0.015);
    });
  });

  it('never leaves the top-k set', () => {
    const counts = histogram(createSampler({ temperature: 5, topK: 2, seed: 4 }), 2000);
    expect(counts[0]).toBe(0);
    expect(counts[3]).toBe(0);
    expect(counts[1]! + counts[2]!).toBe(2000);
  });

  it('keeps the smallest nucleus reaching top-p', () => {
    // softmax([1,3,2,0.5]): token 1 has ~0.61, token 2 ~0.22: p=0.7 keeps exactly {1, 2}.
    const counts = histogram(createSampler({ temperature: 1, topP: 0.7, seed: 5 }), 3000);
    expect(counts[0]).toBe(0);
    expect(counts[3]).toBe(0);
    expect(counts[2]).toBeGreaterThan(0);
  });

  it('rejects nonsense options with a clear message', () => {
    expect(() => createSampler({ temperature: -1 })).toThrow(/temperature/);
    expect(() => createSampler({ topP: 0 })).toThrow(/topP/);
    expect(() => createSampler({ topK: 1.5 })).toThrow(/topK/);
  });
});
