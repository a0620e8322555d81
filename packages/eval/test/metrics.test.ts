import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exactMatch, median, scorePredictions, tokenF1 } from '../src/index.ts';

describe('median', () => {
  it('takes the middle value, or the mean of the two middle values', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNaN();
  });

  it('leaves its input unsorted', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });

  it('has as many values at or below it as at or above it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 40 }),
        (xs) => {
          const m = median(xs);
          expect(xs.filter((x) => x <= m).length).toBeGreaterThanOrEqual(xs.length / 2);
          expect(xs.filter((x) => x >= m).length).toBeGreaterThanOrEqual(xs.length / 2);
        },
      ),
    );
  });
});

describe('exactMatch', () => {
  it('compares normalised answers', () => {
    expect(exactMatch('The Red circle.', 'red circle')).toBe(true);
    expect(exactMatch('Three', '3')).toBe(true);
    expect(exactMatch('red', 'blue')).toBe(false);
  });
});

describe('tokenF1', () => {
  it('scores token overlap SQuAD style', () => {
    // prediction "large red circle" vs answer "small red circle": 2 common, P = R = 2/3.
    expect(tokenF1('a large red circle', 'a small red circle')).toBeCloseTo(2 / 3, 12);
    // prediction 2 tokens, answer 4, 2 common: P = 1, R = 1/2, F1 = 2/3.
    expect(tokenF1('red circle', 'large red circle top')).toBeCloseTo(2 / 3, 12);
    expect(tokenF1('The red circle.', 'red circle')).toBe(1);
    expect(tokenF1('blue square', 'red circle')).toBe(0);
  });

  it('counts repeated tokens no more often than the other side has them', () => {
    // "red red red" vs "red circle": 1 common; P = 1/3, R = 1/2 -> F1 = 0.4
    expect(tokenF1('red red red', 'red circle')).toBeCloseTo(0.4, 12);
  });

  it('treats empty answers: both empty agree, one empty scores 0', () => {
    expect(tokenF1('', '')).toBe(1);
    expect(tokenF1('the', '')).toBe(1);
    expect(tokenF1('', 'red')).toBe(0);
    expect(tokenF1('red', '')).toBe(0);
  });

  it('is symmetric and between 0 and 1', () => {
    const word = fc.constantFrom('red', 'blue', 'circle', 'square', 'the', 'at', 'top', 'left');
    fc.assert(
      fc.property(fc.array(word, { maxLength: 8 }), fc.array(word, { maxLength: 8 }), (a, b) => {
        const f = tokenF1(a.join(' '), b.join(' '));
        expect(f).toBeGreaterThanOrEqual(0);
        expect(f).toBeLessThanOrEqual(1);
        expect(tokenF1(b.join(' '), a.join(' '))).toBeCloseTo(f, 12);
      }),
    );
  });
});

describe('scorePredictions', () => {
  it('keeps free-text families out of the overall accuracy', () => {
    const base = { answer: '', prediction: '', f1: 0.5, prefillMs: 1, promptTokens: 1, visualTokens: 0 };
    const scores = scorePredictions(
      [
        { ...base, id: 'a', family: 'count', correct: true },
        { ...base, id: 'b', family: 'describe', correct: true },
        { ...base, id: 'c', family: 'describe', correct: false, f1: 0.25 },
      ],
      ['describe'],
    );
    expect(scores.accuracy).toBe(1);
    expect(scores.singleAnswerSamples).toBe(1);
    expect(scores.description).toEqual({ samples: 2, exactMatch: 0.5, f1: 0.375 });
    const onlyDescribe = scorePredictions([{ ...base, id: 'b', family: 'describe', correct: true }]);
    expect(onlyDescribe.accuracy).toBeNull();
  });
});
