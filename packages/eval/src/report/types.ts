import type { PeerRow, SweepSection } from './peers-sweep.ts';

/** Accuracy of one run per family (exact match after normalisation), with the family's sample count. */
export interface FamilyAccuracy {
  samples: number;
  dense: number;
  shortv: number;
}

/** An extra accuracy row next to dense and ShortV, e.g. other layer choices of the same size. */
export interface AblationRow {
  /** e.g. `LC-chosen`, `random (mean of 5 seeds)`, `last 6`, `first 6`. */
  label: string;
  /** Overall single-answer accuracy; null when not measured. */
  accuracy: number | null;
  perFamily?: Record<string, number>;
  /** The frozen layers of this row, where one set applies. */
  layers?: number[];
  flopsRatio?: number;
  /** Questions this row was measured on; the reports name it where it is fewer than the eval's (the demo's ablation takes the first N). */
  samples?: number;
}

/** Description quality of one calibration's plan (same number of frozen layers as the main plan). */
export interface CalibrationArm {
  /** `first-token` (the paper: KL at the first answer token, single-answer questions) or `multi-token`. */
  calibration: 'first-token' | 'multi-token';
  /** LC metric the arm was ranked by, e.g. `KL(P_mod||P)@answer[all]`. */
  metric: string;
  frozen: number[];
  exactMatch: number;
  f1: number;
}

/** Which calibration keeps free-text (description) answers better at the same N. */
export interface CalibrationChoice {
  /** Frozen layers in both plans. */
  layers: number;
  /** Description questions both plans answered (the held-out test's). */
  samples: number;
  dense: { exactMatch: number; f1: number };
  arms: CalibrationArm[];
  /** The arm with the higher token F1 (exact match breaks ties); `tie` when both are equal. */
  better: CalibrationArm['calibration'] | 'tie';
}

/** A prefill timing with both arms interleaved (the subset of `PrefillMeasurement` a report shows). */
export interface ReportTiming {
  samples: number;
  repeats: number;
  warmup: number;
  dense: { medianMs: number };
  planned: { medianMs: number };
  ratio: { medianOfRatios: number; ratioOfMedians: number };
}

/**
 * Everything the demo reports show. Its required fields are the `shortv demo --json` object; the
 * optional ones add detail where the caller measured it.
 */
export interface DemoReport {
  /** Model id, e.g. `shortv/llava-shapes-tiny`. */
  model: string;
  fingerprint?: string;
  numLayers: number;
  /** Layer Contribution per decoder layer (index = layer), for visual and for text tokens. */
  lc: { visual: number[]; text: number[]; metric?: string };
  plan: { frozen: number[]; flopsRatio: number };
  calibration: {
    samples: number;
    seconds: number;
    dataset?: string;
    seed?: number;
    createdWith?: string;
  };
  eval: {
    samples: number;
    dense: { accuracy: number | null; prefillMs: number };
    shortv: { accuracy: number | null; prefillMs: number };
    /** Per family accuracy (describe included, by exact match). */
    perFamily?: Record<string, FamilyAccuracy>;
    /** Share of samples with the same normalised answer under both runs. */
    agreement?: number;
    /** Free-text answers (describe), scored apart. */
    description?: {
      samples: number;
      dense: { exactMatch: number; f1: number };
      shortv: { exactMatch: number; f1: number };
    };
  };
  /** Interleaved dense/ShortV prefill timing (`measurePrefill`). */
  timing?: ReportTiming;
  ablation?: AblationRow[];
  /** First-token vs multi-token calibration on description answers at the plan's N. */
  calibrationChoice?: CalibrationChoice;
  /** Peer methods on the same questions: dense, FastV, VTW, ShortV, ShortV + FastV. */
  peers?: PeerRow[];
  /** Accuracy for N = 0..L frozen layers under several layer-choice rules. */
  sweep?: SweepSection;
  /** ISO date of the run. */
  createdAt?: string;
}
