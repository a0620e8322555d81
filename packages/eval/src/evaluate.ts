import { GenerationAbortedError, type GenerationRequest, type GenerationResult } from '@shortv/runtime-core';
import { normalizeAnswer } from '@shortv/shapes';
import { type RawImage, ShortvError } from '@shortv/tensor';
import { median, tokenF1 } from './metrics.ts';

/** One question of an eval set. The caller decodes images, so this package stays platform-free. */
export interface EvalSample {
  id: string;
  family: string;
  question: string;
  answer: string;
  loadImage: () => Promise<RawImage>;
}

/** What evaluation needs from an engine (a `VlmEngine` satisfies it). */
export interface EvalEngine {
  run(request: GenerationRequest): Promise<GenerationResult>;
}

/** Families whose answers are free text; they are scored apart, with exact match and token F1. */
export const FREE_TEXT_FAMILIES: readonly string[] = ['describe'];

export const DEFAULT_EVAL_MAX_NEW_TOKENS = 16;

export interface EvaluateOptions {
  /** Greedy answer length limit (default 16); free-text families may need more. */
  maxNewTokens?: number;
  /** Prompt sent for a sample; default: its question as is. */
  prompt?: (sample: EvalSample) => string;
  /** Families kept out of the overall accuracy (default: `describe`). */
  freeTextFamilies?: readonly string[];
  /** A name for the run in comparisons and reports, e.g. `dense` or `shortv`. */
  label?: string;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface SamplePrediction {
  id: string;
  family: string;
  answer: string;
  prediction: string;
  /** Exact match after normalisation. */
  correct: boolean;
  /** Token F1 of the normalised prediction against the answer (SQuAD style). */
  f1: number;
  prefillMs: number;
  promptTokens: number;
  visualTokens: number;
  /** Answer tokens generated and the time decoding them took (after prefill). */
  newTokens?: number;
  decodeMs?: number;
}

export interface FamilyScore {
  samples: number;
  correct: number;
  accuracy: number;
}

export interface DescriptionScore {
  samples: number;
  /** Share of exact matches after normalisation. */
  exactMatch: number;
  /** Mean token F1. */
  f1: number;
}

export interface EvalRun {
  label: string;
  samples: number;
  predictions: SamplePrediction[];
  /** Exact-match accuracy over single-answer samples (free-text families left out); null when none. */
  accuracy: number | null;
  singleAnswerSamples: number;
  /** Exact-match accuracy of every family, free-text ones included. */
  perFamily: Record<string, FamilyScore>;
  /** Scores of the free-text families together; null when the set has none. */
  description: DescriptionScore | null;
  medianPrefillMs: number;
  /** Decoder prefill FLOPs summed over the samples, dense and under the engine's plan. */
  flops: { dense: number; planned: number; ratio: number };
  frozenLayers: number[];
  /** Answer tokens per second of decoding, over all samples. */
  decodeTokensPerSecond?: number;
}

/**
 * Runs every sample through the engine with greedy decoding and scores the answers. Samples run one
 * after another, so per-sample prefill times are not disturbed by each other.
 */
export async function evaluate(
  engine: EvalEngine,
  samples: readonly EvalSample[],
  options: EvaluateOptions = {},
): Promise<EvalRun> {
  if (samples.length === 0) {
    throw new ShortvError('E_EVAL_NO_SAMPLES', 'evaluate needs at least one sample; the eval set is empty');
  }
  const maxNewTokens = options.maxNewTokens ?? DEFAULT_EVAL_MAX_NEW_TOKENS;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) {
    throw new ShortvError('E_EVAL_OPTIONS', `maxNewTokens must be an integer >= 1, got ${maxNewTokens}`);
  }
  checkUniqueIds(samples);
  const promptOf = options.prompt ?? ((sample: EvalSample) => sample.question);
  const predictions: SamplePrediction[] = [];
  let denseFlops = 0;
  let plannedFlops = 0;
  let frozenLayers: number[] = [];
  for (const sample of samples) {
    if (options.signal?.aborted) throw new GenerationAbortedError();
    const image = await sample.loadImage();
    const result = await engine.run({
      prompt: promptOf(sample),
      images: [image],
      maxNewTokens,
      sampling: { temperature: 0 },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const { stats } = result;
    denseFlops += stats.flops.dense;
    plannedFlops += stats.flops.planned;
    frozenLayers = stats.frozenLayers;
    predictions.push({
      id: sample.id,
      family: sample.family,
      answer: sample.answer,
      prediction: result.text,
      correct: normalizeAnswer(result.text) === normalizeAnswer(sample.answer),
      f1: tokenF1(result.text, sample.answer),
      prefillMs: stats.prefillMs,
      promptTokens: stats.promptTokens,
      visualTokens: stats.visualTokens,
      newTokens: stats.newTokens,
      decodeMs: stats.decodeMs,
    });
    options.onProgress?.(predictions.length, samples.length);
  }
  return {
    ...scorePredictions(predictions, options.freeTextFamilies ?? FREE_TEXT_FAMILIES),
    label: options.label ?? (frozenLayers.length > 0 ? 'shortv' : 'dense'),
    flops: {
      dense: denseFlops,
      planned: plannedFlops,
      ratio: denseFlops > 0 ? plannedFlops / denseFlops : 1,
    },
    frozenLayers,
    decodeTokensPerSecond: decodeRate(predictions),
  };
}

function decodeRate(predictions: readonly SamplePrediction[]): number {
  let tokens = 0;
  let ms = 0;
  for (const p of predictions) {
    tokens += p.newTokens ?? 0;
    ms += p.decodeMs ?? 0;
  }
  return ms > 0 ? (tokens / ms) * 1000 : 0;
}

/** The score fields of a run, from its predictions alone (also used to re-score saved predictions). */
export function scorePredictions(
  predictions: readonly SamplePrediction[],
  freeTextFamilies: readonly string[] = FREE_TEXT_FAMILIES,
): Pick<
  EvalRun,
  | 'samples'
  | 'predictions'
  | 'accuracy'
  | 'singleAnswerSamples'
  | 'perFamily'
  | 'description'
  | 'medianPrefillMs'
> {
  const freeText = new Set(freeTextFamilies);
  const perFamily: Record<string, FamilyScore> = {};
  let single = 0;
  let singleCorrect = 0;
  let described = 0;
  let describedCorrect = 0;
  let f1Sum = 0;
  for (const p of predictions) {
    let family = perFamily[p.family];
    if (!family) {
      family = { samples: 0, correct: 0, accuracy: 0 };
      perFamily[p.family] = family;
    }
    family.samples++;
    if (p.correct) family.correct++;
    if (freeText.has(p.family)) {
      described++;
      if (p.correct) describedCorrect++;
      f1Sum += p.f1;
    } else {
      single++;
      if (p.correct) singleCorrect++;
    }
  }
  for (const family of Object.values(perFamily)) family.accuracy = family.correct / family.samples;
  return {
    samples: predictions.length,
    predictions: [...predictions],
    accuracy: single > 0 ? singleCorrect / single : null,
    singleAnswerSamples: single,
    perFamily: sortedRecord(perFamily),
    description:
      described > 0
        ? { samples: described, exactMatch: describedCorrect / described, f1: f1Sum / described }
        : null,
    medianPrefillMs: median(predictions.map((p) => p.prefillMs)),
  };
}

function checkUniqueIds(samples: readonly EvalSample[]): void {
  const seen = new Set<string>();
  for (const sample of samples) {
    if (seen.has(sample.id)) {
      throw new ShortvError(
        'E_EVAL_DUPLICATE_ID',
        `sample id "${sample.id}" occurs twice; ids pair predictions across runs, so each must be unique`,
      );
    }
    seen.add(sample.id);
  }
}

export function sortedRecord<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
