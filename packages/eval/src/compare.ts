import { normalizeAnswer } from '@shortv/shapes';
import { ShortvError } from '@shortv/tensor';
import { type EvalRun, type SamplePrediction, sortedRecord } from './evaluate.ts';
import { median } from './metrics.ts';

export interface FamilyComparison {
  samples: number;
  denseAccuracy: number;
  otherAccuracy: number;
  /** Share of samples whose normalised predictions are equal. */
  agreement: number;
}

export interface RunComparison {
  denseLabel: string;
  otherLabel: string;
  samples: number;
  /** Share of samples (all families) where both runs gave the same normalised prediction. */
  agreement: number;
  denseAccuracy: number | null;
  otherAccuracy: number | null;
  /** other / dense accuracy; null when either is missing or dense accuracy is 0. */
  relativeAccuracy: number | null;
  /**
   * Prefill time of `other` relative to `dense`, two ways: the median of per-sample ratios (robust to
   * samples of different lengths) and the ratio of the two medians. Below 1 means `other` is faster.
   * These come from two sequential evaluations; `measurePrefill` gives an interleaved measurement.
   */
  prefillRatio: { medianOfRatios: number; ratioOfMedians: number };
  flopsRatio: { dense: number; other: number };
  perFamily: Record<string, FamilyComparison>;
}

/** Pairs two evaluations of the same samples by id and compares answers, accuracy and prefill time. */
export function compareRuns(dense: EvalRun, other: EvalRun): RunComparison {
  const otherById = new Map(other.predictions.map((p) => [p.id, p]));
  if (otherById.size !== dense.predictions.length || dense.predictions.some((p) => !otherById.has(p.id))) {
    throw new ShortvError(
      'E_EVAL_RUN_MISMATCH',
      `runs "${dense.label}" (${dense.predictions.length} samples) and "${other.label}" ` +
        `(${other.predictions.length} samples) do not cover the same sample ids; evaluate both on one sample list`,
    );
  }
  const pairs: Array<[SamplePrediction, SamplePrediction]> = dense.predictions.map((d) => [
    d,
    otherById.get(d.id)!,
  ]);
  const agrees = ([d, o]: [SamplePrediction, SamplePrediction]) =>
    normalizeAnswer(d.prediction) === normalizeAnswer(o.prediction);

  const families: Record<string, { samples: number; dense: number; other: number; agree: number }> = {};
  for (const pair of pairs) {
    let f = families[pair[0].family];
    if (!f) {
      f = { samples: 0, dense: 0, other: 0, agree: 0 };
      families[pair[0].family] = f;
    }
    f.samples++;
    if (pair[0].correct) f.dense++;
    if (pair[1].correct) f.other++;
    if (agrees(pair)) f.agree++;
  }
  const perFamily: Record<string, FamilyComparison> = {};
  for (const [name, f] of Object.entries(families)) {
    perFamily[name] = {
      samples: f.samples,
      denseAccuracy: f.dense / f.samples,
      otherAccuracy: f.other / f.samples,
      agreement: f.agree / f.samples,
    };
  }
  const relativeAccuracy =
    dense.accuracy !== null && other.accuracy !== null && dense.accuracy > 0
      ? other.accuracy / dense.accuracy
      : null;
  return {
    denseLabel: dense.label,
    otherLabel: other.label,
    samples: pairs.length,
    agreement: pairs.length > 0 ? pairs.filter(agrees).length / pairs.length : Number.NaN,
    denseAccuracy: dense.accuracy,
    otherAccuracy: other.accuracy,
    relativeAccuracy,
    prefillRatio: {
      medianOfRatios: median(pairs.map(([d, o]) => o.prefillMs / d.prefillMs)),
      ratioOfMedians: dense.medianPrefillMs > 0 ? other.medianPrefillMs / dense.medianPrefillMs : Number.NaN,
    },
    flopsRatio: { dense: dense.flops.ratio, other: other.flops.ratio },
    perFamily: sortedRecord(perFamily),
  };
}
