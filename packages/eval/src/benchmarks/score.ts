import { normalizeAnswer } from '@shortv/shapes';
import { ShortvError } from '@shortv/tensor';
import { FREE_TEXT_FAMILIES } from '../evaluate.ts';
import type { BenchmarkFormat, BenchmarkItem } from './types.ts';

/** VQA soft accuracy: min(#annotators giving the normalised prediction / 3, 1). */
export function vqaSoftAccuracy(prediction: string, answers: readonly string[]): number {
  const p = normalizeAnswer(prediction);
  const agreeing = answers.filter((a) => normalizeAnswer(a) === p).length;
  return Math.min(agreeing / 3, 1);
}

/** POPE's reading of a free answer: "no" when it contains the word no or not, else "yes". */
export function popeYesNo(prediction: string): 'yes' | 'no' {
  const words = normalizeAnswer(prediction).split(' ');
  return words.includes('no') || words.includes('not') ? 'no' : 'yes';
}

/** MME's reading: the first word if it is yes or no, otherwise neither (always wrong). */
export function mmeYesNo(prediction: string): 'yes' | 'no' | 'other' {
  const first = normalizeAnswer(prediction).split(' ')[0];
  return first === 'yes' || first === 'no' ? first : 'other';
}

export interface CategoryScore {
  samples: number;
  /** Mean item score (accuracy, or VQA soft accuracy). */
  score: number;
}

export interface PopeCounts {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  /** Share of "yes" predictions. */
  yesRatio: number;
}

export interface MmeCategoryScore {
  questions: number;
  images: number;
  accuracy: number;
  /** Share of images with every question right. */
  accuracyPlus: number;
  /** (accuracy + accuracyPlus) x 100, MME's per-category score. */
  score: number;
}

export interface BenchmarkScore {
  format: BenchmarkFormat;
  /** What `overall` measures, e.g. `soft accuracy`. */
  metric: string;
  samples: number;
  /** The headline figure: mean item score (POPE: accuracy; MME: total score over categories). */
  overall: number;
  perCategory: Record<string, CategoryScore>;
  pope?: PopeCounts & { perCategory: Record<string, PopeCounts> };
  mme?: { total: number; perCategory: Record<string, MmeCategoryScore> };
  /** Per item: its score in [0, 1]. */
  itemScores: Record<string, number>;
}

function itemScore(item: BenchmarkItem, prediction: string): number {
  switch (item.format) {
    case 'vqa':
      return vqaSoftAccuracy(prediction, item.answers);
    case 'pope':
      return popeYesNo(prediction) === item.answers[0] ? 1 : 0;
    case 'mme':
      return mmeYesNo(prediction) === item.answers[0] ? 1 : 0;
    default:
      return normalizeAnswer(prediction) === normalizeAnswer(item.answers[0] ?? '') ? 1 : 0;
  }
}

function popeCounts(items: readonly BenchmarkItem[], predictions: ReadonlyMap<string, string>): PopeCounts {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let correct = 0;
  let yes = 0;
  for (const item of items) {
    const predicted = popeYesNo(predictions.get(item.id)!);
    const label = item.answers[0];
    if (predicted === 'yes') yes++;
    if (predicted === label) correct++;
    if (predicted === 'yes' && label === 'yes') tp++;
    if (predicted === 'yes' && label === 'no') fp++;
    if (predicted === 'no' && label === 'yes') fn++;
  }
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = tp + fn > 0 ? tp / (tp + fn) : 0;
  return {
    accuracy: correct / items.length,
    precision,
    recall,
    f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
    yesRatio: yes / items.length,
  };
}

function mmeScores(
  items: readonly BenchmarkItem[],
  scores: Record<string, number>,
): { total: number; perCategory: Record<string, MmeCategoryScore> } {
  const perCategory: Record<string, MmeCategoryScore> = {};
  for (const category of sortedKeys(items.map((i) => i.category))) {
    const mine = items.filter((i) => i.category === category);
    const groups = new Map<string, boolean>();
    let correct = 0;
    for (const item of mine) {
      const ok = scores[item.id] === 1;
      if (ok) correct++;
      const key = item.group ?? item.id;
      groups.set(key, (groups.get(key) ?? true) && ok);
    }
    const accuracy = correct / mine.length;
    const accuracyPlus = [...groups.values()].filter(Boolean).length / groups.size;
    perCategory[category] = {
      questions: mine.length,
      images: groups.size,
      accuracy,
      accuracyPlus,
      score: (accuracy + accuracyPlus) * 100,
    };
  }
  const total = Object.values(perCategory).reduce((sum, c) => sum + c.score, 0);
  return { total, perCategory };
}

function sortedKeys(keys: readonly string[]): string[] {
  return [...new Set(keys)].sort();
}

const METRICS: Record<BenchmarkFormat, string> = {
  shapes: 'exact match',
  pope: 'accuracy',
  vqa: 'soft accuracy',
  gqa: 'exact match',
  mme: 'total score',
};

/**
 * Scores greedy answers (`predictions`: item id -> answer text) by the format's convention (METHOD §8):
 * exact match after normalisation (shapes, GQA), VQA soft accuracy, POPE accuracy/precision/recall/F1
 * with "yes" as the positive class, MME accuracy and acc+ per category with the sum of their scores.
 * Shapes' free-text family (describe) is scored per family but left out of the overall figure.
 */
export function scoreBenchmark(
  format: BenchmarkFormat,
  items: readonly BenchmarkItem[],
  predictions: ReadonlyMap<string, string>,
): BenchmarkScore {
  if (items.length === 0) {
    throw new ShortvError('E_EVAL_NO_SAMPLES', 'nothing to score: the benchmark has no usable items');
  }
  const itemScores: Record<string, number> = {};
  for (const item of items) {
    const prediction = predictions.get(item.id);
    if (prediction === undefined) {
      throw new ShortvError('E_EVAL_MISSING_PREDICTION', `no prediction for item ${item.id}`);
    }
    itemScores[item.id] = itemScore(item, prediction);
  }
  const perCategory: Record<string, CategoryScore> = {};
  for (const category of sortedKeys(items.map((i) => i.category))) {
    const mine = items.filter((i) => i.category === category);
    perCategory[category] = {
      samples: mine.length,
      score: mine.reduce((sum, i) => sum + itemScores[i.id]!, 0) / mine.length,
    };
  }
  const counted = format === 'shapes' ? items.filter((i) => !FREE_TEXT_FAMILIES.includes(i.category)) : items;
  const mean =
    counted.length > 0 ? counted.reduce((sum, i) => sum + itemScores[i.id]!, 0) / counted.length : 0;
  const score: BenchmarkScore = {
    format,
    metric: METRICS[format],
    samples: items.length,
    overall: mean,
    perCategory,
    itemScores,
  };
  if (format === 'pope') {
    const byCategory: Record<string, PopeCounts> = {};
    for (const category of Object.keys(perCategory)) {
      byCategory[category] = popeCounts(
        items.filter((i) => i.category === category),
        predictions,
      );
    }
    const all = popeCounts(items, predictions);
    score.pope = { ...all, perCategory: byCategory };
    score.overall = all.accuracy;
  }
  if (format === 'mme') {
    score.mme = mmeScores(items, itemScores);
    score.overall = score.mme.total;
  }
  return score;
}
