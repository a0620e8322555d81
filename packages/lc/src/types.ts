import type { DecoderDims, PrefillTokens } from '@shortv/plan';

/**
 * Which KL divergence compares the ablated distribution P_l with the clean one P:
 * `'mod||orig'` is KL(P_l || P), the reference definition; `'orig||mod'` is KL(P || P_l).
 */
export type KlDirection = 'mod||orig' | 'orig||mod';

/**
 * Where the distributions are compared: `'first'` at the last prompt position only (the first answer
 * token, the reference definition); `'all'` at every answer position of a sample that carries its
 * reference answer, teacher-forced, averaging the per-position KL (a sample without an answer
 * contributes its first position only).
 */
export type AnswerAggregation = 'first' | 'all';

/**
 * `'prefix'`: one clean pass per sample, then each layer's visual and text ablation as two batch rows
 * started from that layer's clean input (layers before it are never recomputed; see `maxBatch`).
 * `'naive'`: per group, one clean and L ablated full forward passes through the whole masked decoder.
 * Both compute the same values; `'naive'` exists to check and time `'prefix'`.
 */
export type LcSchedule = 'prefix' | 'naive';

/** The model LC was measured on: what a plan made from it is checked against. */
export interface LcModel {
  architecture: string;
  numLayers: number;
  hiddenSize: number;
  fingerprint: string;
}

/** Where the calibration data came from, as a freeze plan records it. */
export interface LcCalibration {
  dataset: string;
  samples: number;
  seed?: number;
  createdWith: string;
}

/** One sample's LC, in the order the samples were measured. */
export interface LcSampleResult {
  /** Position of the sample in the array given to `layerContribution`. */
  index: number;
  id?: string;
  visual: number[];
  text: number[];
  /** Visual and text prompt rows of the sample (what the mean `tokens` of the result is made of). */
  visualTokens: number;
  textTokens: number;
}

/**
 * The LC scores selection works from: the part of an `LcResult` a file (lc.json) has to keep.
 * Lower is less useful (`ascending`), as for every KL metric.
 */
export interface LcScores {
  /** LC_visual(l), one value per layer: mean over samples. */
  visual: number[];
  /** LC_text(l): the same with every non-visual row ablated. */
  text: number[];
  /** e.g. `kl(p_mod||p)@answer[0]`. */
  metric: string;
  samples: number;
  model: LcModel;
  /** Decoder sizes for the FLOPs estimate. */
  dims: DecoderDims;
  /** Mean visual and text prompt tokens of the calibration samples (rounded). */
  tokens: PrefillTokens;
  calibration: LcCalibration;
}

export interface LcResult extends LcScores {
  perSample?: LcSampleResult[];
  /** Wall time of the whole measurement. */
  seconds: number;
  direction: KlDirection;
  aggregation: AnswerAggregation;
  schedule: LcSchedule;
}
