import {
  type DecoderDims,
  type FreezePlan,
  type ModelIdentity,
  PLAN_FORMAT,
  PLAN_VERSION,
  type PrefillTokens,
  parsePlan,
  prefillFlops,
} from '@shortv/plan';
import { ShortvError } from '@shortv/tensor';
import type { LcScores } from './types.ts';

export interface SelectOptions {
  /** The model the plan is for: LC measured on another model (fingerprint or layer count) is refused. */
  model?: ModelIdentity;
  /** ISO 8601 time written to the plan's `createdAt`. Default: none, so the plan is reproducible. */
  createdAt?: string;
}

function mismatch(message: string): ShortvError {
  return new ShortvError('E_INPUT_LC_MODEL', `${message}; measure LC on the model the plan is for`);
}

/** Checks the scores are one finite value per layer, and, when given, that they belong to `model`. */
export function checkLcScores(lc: LcScores, model?: ModelIdentity): void {
  const L = lc.model.numLayers;
  for (const group of ['visual', 'text'] as const) {
    const values = lc[group];
    if (!Array.isArray(values) || values.length !== L || values.some((v) => !Number.isFinite(v))) {
      throw new ShortvError(
        'E_INPUT_LC',
        `LC ${group} must hold ${L} finite numbers (one per layer of the model it was measured on); got ${
          Array.isArray(values) ? `${values.length} values` : typeof values
        }`,
      );
    }
  }
  if (lc.dims.numLayers !== L) {
    throw new ShortvError('E_INPUT_LC', `LC dims say ${lc.dims.numLayers} layers but its model has ${L}`);
  }
  if (!model) return;
  if (model.numLayers !== L) {
    throw mismatch(`the LC was measured on a model with ${L} layers, this model has ${model.numLayers}`);
  }
  if (model.fingerprint !== lc.model.fingerprint) {
    throw mismatch(
      `the LC was measured on model ${lc.model.fingerprint}, this model is ${model.fingerprint}`,
    );
  }
}

/**
 * Layers from least to most useful: ascending visual LC; equal values put the higher layer index
 * first (a later layer's visual updates reach the answer through fewer layers).
 */
export function rankLayers(lc: Pick<LcScores, 'visual'>): number[] {
  return lc.visual
    .map((value, index) => ({ value, index }))
    .sort((a, b) => a.value - b.value || b.index - a.index)
    .map((entry) => entry.index);
}

function flopsRatio(dims: DecoderDims, tokens: PrefillTokens, layers: readonly number[]): number {
  return prefillFlops(dims, tokens, { layers: layers.map((index) => ({ index })) }).ratio;
}

/** A freeze plan for `layers`, carrying the LC scores, the calibration provenance and the FLOPs estimate. */
export function buildPlan(
  lc: LcScores,
  layers: readonly number[],
  options: SelectOptions & { tokens?: PrefillTokens; dims?: DecoderDims } = {},
): FreezePlan {
  const tokens = options.tokens ?? lc.tokens;
  const dims = options.dims ?? lc.dims;
  return parsePlan({
    format: PLAN_FORMAT,
    version: PLAN_VERSION,
    model: { ...lc.model },
    layers: [...layers].sort((a, b) => a - b).map((index) => ({ index, visual: 'freeze' })),
    prune: null,
    withdraw: null,
    lc: {
      visual: [...lc.visual],
      text: [...lc.text],
      metric: lc.metric,
      direction: 'ascending',
      samples: lc.samples,
    },
    calibration: { ...lc.calibration },
    estimate: {
      visualTokens: tokens.visualTokens,
      textTokens: tokens.textTokens,
      flopsRatio: flopsRatio(dims, tokens, layers),
    },
    ...(options.createdAt ? { createdAt: options.createdAt } : {}),
  });
}

/**
 * Freezes the N layers of lowest visual LC (ties: higher layer index first). N defaults to
 * round(0.6 · L), the share the ShortV paper freezes (19 of 32, 24 of 40).
 */
export function selectByCount(lc: LcScores, count?: number, options: SelectOptions = {}): FreezePlan {
  checkLcScores(lc, options.model);
  const L = lc.model.numLayers;
  const n = count ?? Math.round(0.6 * L);
  if (!Number.isInteger(n) || n < 0 || n > L) {
    throw new ShortvError(
      'E_INPUT_COUNT',
      `the number of layers to freeze must be an integer from 0 to ${L} (the model's layers); got ${n}`,
    );
  }
  return buildPlan(lc, rankLayers(lc).slice(0, n), options);
}

/**
 * Freezes the fewest layers, taken in LC order, whose planned / dense prefill FLOPs ratio is at most
 * `targetRatio`. `dims` and `tokens` default to the model and mean prompt of the calibration.
 */
export function selectByFlops(
  lc: LcScores,
  targetRatio: number,
  dims: DecoderDims = lc.dims,
  tokens: PrefillTokens = lc.tokens,
  options: SelectOptions = {},
): FreezePlan {
  checkLcScores(lc, options.model);
  if (!(targetRatio > 0 && targetRatio <= 1)) {
    throw new ShortvError(
      'E_INPUT_RATIO',
      `the FLOPs ratio target must be in (0, 1] (planned / dense prefill FLOPs); got ${targetRatio}`,
    );
  }
  if (dims.numLayers !== lc.model.numLayers) {
    throw mismatch(`the LC covers ${lc.model.numLayers} layers, the given dims ${dims.numLayers}`);
  }
  const order = rankLayers(lc);
  for (let n = 0; n <= order.length; n++) {
    const layers = order.slice(0, n);
    if (flopsRatio(dims, tokens, layers) <= targetRatio)
      return buildPlan(lc, layers, { ...options, dims, tokens });
  }
  const floor = flopsRatio(dims, tokens, order);
  throw new ShortvError(
    'E_INPUT_RATIO_UNREACHABLE',
    `a FLOPs ratio of ${targetRatio} cannot be reached: freezing every layer gives ${floor.toFixed(4)} ` +
      `with ${tokens.visualTokens} visual and ${tokens.textTokens} text tokens; ask for ${Math.ceil(floor * 1e4) / 1e4} or more`,
  );
}

export interface ValidationStep {
  layers: number[];
  agreement: number;
  accepted: boolean;
}

export interface ValidationOptions extends SelectOptions {
  /** Lowest acceptable agreement with the dense model, in [0, 1]. */
  threshold: number;
  onStep?: (step: ValidationStep) => void;
}

/**
 * Adds layers in LC order while the held-out agreement with the dense model stays at or above
 * `threshold`; stops at the first layer that drops it below. `evaluate` gets each candidate plan (apply
 * it with `engine.setPlan`) and returns the share of held-out answers equal to the dense answers.
 */
export async function selectByValidation(
  lc: LcScores,
  evaluate: (plan: FreezePlan, layers: readonly number[]) => Promise<number> | number,
  options: ValidationOptions,
): Promise<FreezePlan> {
  checkLcScores(lc, options.model);
  const { threshold } = options;
  if (!(threshold >= 0 && threshold <= 1)) {
    throw new ShortvError('E_INPUT_THRESHOLD', `the agreement threshold must be in [0, 1]; got ${threshold}`);
  }
  let chosen: number[] = [];
  for (const layer of rankLayers(lc)) {
    const candidate = [...chosen, layer];
    const agreement = await evaluate(buildPlan(lc, candidate, options), candidate);
    if (!(agreement >= 0 && agreement <= 1)) {
      throw new ShortvError(
        'E_INPUT_AGREEMENT',
        `the evaluation callback must return an agreement in [0, 1]; got ${agreement} for layers ${candidate.join(', ')}`,
      );
    }
    const accepted = agreement >= threshold;
    options.onStep?.({ layers: candidate, agreement, accepted });
    if (!accepted) break;
    chosen = candidate;
  }
  return buildPlan(lc, chosen, options);
}
