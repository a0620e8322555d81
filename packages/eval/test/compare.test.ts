import { describe, expect, it } from 'vitest';
import { compareRuns, type EvalRun, type SamplePrediction, scorePredictions } from '../src/index.ts';

/** `correct` is given, not derived: compareRuns must take it from the runs as they are. */
function prediction(
  id: string,
  family: string,
  predicted: string,
  correct: boolean,
  prefillMs: number,
): SamplePrediction {
  return {
    id,
    family,
    answer: '',
    prediction: predicted,
    correct,
    f1: 0,
    prefillMs,
    promptTokens: 40,
    visualTokens: 36,
  };
}

function run(label: string, predictions: SamplePrediction[], flopsRatio = 1): EvalRun {
  return {
    ...scorePredictions(predictions),
    label,
    flops: { dense: 100, planned: 100 * flopsRatio, ratio: flopsRatio },
    frozenLayers: [],
  };
}

// Dense: 3 of 4 single-answer questions right; ShortV: 1 of 4. Samples come in another order in ShortV.
const dense = run('dense', [
  prediction('a', 'count', '3', true, 10),
  prediction('b', 'count', '2', true, 20),
  prediction('c', 'exists', 'yes', true, 30),
  prediction('d', 'exists', 'yes', false, 40),
  prediction('e', 'describe', 'A red circle.', false, 50),
]);
const shortv = run(
  'shortv',
  [
    prediction('e', 'describe', 'red circle', true, 25),
    prediction('d', 'exists', 'Yes', false, 10),
    prediction('c', 'exists', 'yes', true, 15),
    prediction('b', 'count', 'twenty', false, 10),
    prediction('a', 'count', 'four', false, 5),
  ],
  0.5,
);

describe('compareRuns', () => {
  const cmp = compareRuns(dense, shortv);

  it('pairs samples by id and counts agreement of normalised answers over all of them', () => {
    expect(cmp.samples).toBe(5);
    // a: 3 vs four -> 4 (no); b: 2 vs twenty -> 20 (no); c: yes (yes); d: yes vs Yes (yes); e: "a red circle." vs "red circle" (yes)
    expect(cmp.agreement).toBeCloseTo(3 / 5, 12);
    expect(cmp.denseLabel).toBe('dense');
    expect(cmp.otherLabel).toBe('shortv');
  });

  it('reports accuracies over single-answer families and their ratio', () => {
    expect(cmp.denseAccuracy).toBeCloseTo(3 / 4, 12);
    expect(cmp.otherAccuracy).toBeCloseTo(1 / 4, 12);
    expect(cmp.relativeAccuracy).toBeCloseTo(1 / 3, 12);
  });

  it('reports the prefill ratio both as median of ratios and ratio of medians', () => {
    // per-sample ratios: a 5/10, b 10/20, c 15/30, d 10/40, e 25/50 -> 0.5, 0.5, 0.5, 0.25, 0.5
    expect(cmp.prefillRatio.medianOfRatios).toBeCloseTo(0.5, 12);
    // medians: dense 30 ms, ShortV 10 ms
    expect(cmp.prefillRatio.ratioOfMedians).toBeCloseTo(10 / 30, 12);
    expect(cmp.flopsRatio).toEqual({ dense: 1, other: 0.5 });
  });

  it('breaks accuracy and agreement down per family', () => {
    expect(cmp.perFamily).toEqual({
      count: { samples: 2, denseAccuracy: 1, otherAccuracy: 0, agreement: 0 },
      describe: { samples: 1, denseAccuracy: 0, otherAccuracy: 1, agreement: 1 },
      exists: { samples: 2, denseAccuracy: 0.5, otherAccuracy: 0.5, agreement: 1 },
    });
  });

  it('has no relative accuracy when dense got nothing right', () => {
    const zero = run('dense', [prediction('a', 'count', '4', false, 10)]);
    const other = run('x', [prediction('a', 'count', '3', true, 10)]);
    expect(compareRuns(zero, other).relativeAccuracy).toBeNull();
  });

  it('refuses runs over different samples', () => {
    const fewer = run('shortv', shortv.predictions.slice(1));
    expect(() => compareRuns(dense, fewer)).toThrow(expect.objectContaining({ code: 'E_EVAL_RUN_MISMATCH' }));
    const renamed = run('shortv', [...shortv.predictions.slice(1), { ...shortv.predictions[0]!, id: 'z' }]);
    expect(() => compareRuns(dense, renamed)).toThrow(
      expect.objectContaining({ code: 'E_EVAL_RUN_MISMATCH' }),
    );
  });
});
