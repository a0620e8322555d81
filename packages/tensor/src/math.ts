import { ShortvError } from './errors.ts';

/** A row of numbers: a Float32Array slice of logits, a Float64Array or a plain array. */
export type NumericRow = ArrayLike<number>;

function requireRow(values: NumericRow, what: string): void {
  if (values.length === 0) throw new ShortvError('E_MATH_EMPTY', `${what} needs at least one value`);
}

/**
 * Largest logit after checking the row: NaN and +Infinity have no meaning as logits and would turn
 * every result into NaN, so they are refused; -Infinity is a valid "probability zero".
 */
function checkedMax(logits: NumericRow, what: string): number {
  requireRow(logits, what);
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i]!;
    if (Number.isNaN(v) || v === Infinity) {
      throw new ShortvError(
        'E_MATH_LOGITS',
        `${what}: logit ${i} is ${v}; logits must be finite or -Infinity`,
      );
    }
    if (v > max) max = v;
  }
  if (max === -Infinity) {
    throw new ShortvError('E_MATH_LOGITS', `${what}: every logit is -Infinity, so no distribution exists`);
  }
  return max;
}

/** log-softmax in float64: x - max - log(sum(exp(x - max))), exact for any logit magnitude. */
export function logSoftmax(logits: NumericRow): Float64Array {
  const max = checkedMax(logits, 'logSoftmax');
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  const logSum = Math.log(sum);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i]! - max - logSum;
  return out;
}

/** softmax in float64; subtracting the maximum first keeps exp() from overflowing. */
export function softmax(logits: NumericRow): Float64Array {
  const max = checkedMax(logits, 'softmax');
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = Math.exp(logits[i]! - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / sum;
  return out;
}

/**
 * KL(P || Q) = sum_i P_i (log P_i - log Q_i) with P = softmax(pLogits), Q = softmax(qLogits), in nats.
 * The direction is the argument order: KL(Q || P) is `klDivergenceFromLogits(qLogits, pLogits)`.
 * Terms with P_i = 0 contribute 0 (the limit of p log p); P_i > 0 where Q_i = 0 gives +Infinity.
 * Rounding can make the sum a hair below zero for equal rows; the result is clamped at 0.
 */
export function klDivergenceFromLogits(pLogits: NumericRow, qLogits: NumericRow): number {
  if (pLogits.length !== qLogits.length) {
    throw new ShortvError(
      'E_MATH_SHAPE',
      `klDivergenceFromLogits needs rows of equal length, got ${pLogits.length} and ${qLogits.length}`,
    );
  }
  const logP = logSoftmax(pLogits);
  const logQ = logSoftmax(qLogits);
  let kl = 0;
  for (let i = 0; i < logP.length; i++) {
    const p = Math.exp(logP[i]!);
    if (p === 0) continue;
    kl += p * (logP[i]! - logQ[i]!);
  }
  return Math.max(kl, 0);
}

/** Index of the largest value; the lowest index wins ties and NaN never wins. */
export function argmax(values: NumericRow): number {
  requireRow(values, 'argmax');
  let best = -1;
  let bestValue = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v > bestValue || (best === -1 && v === -Infinity)) {
      best = i;
      bestValue = v;
    }
  }
  if (best === -1) throw new ShortvError('E_MATH_LOGITS', 'argmax: every value is NaN');
  return best;
}

export interface TopK {
  indices: number[];
  values: number[];
}

/** True when (a, ia) ranks before (b, ib): larger value first, then lower index; NaN ranks last. */
function ranksBefore(a: number, ia: number, b: number, ib: number): boolean {
  const aNaN = Number.isNaN(a);
  const bNaN = Number.isNaN(b);
  if (aNaN !== bNaN) return bNaN;
  if (!aNaN && a !== b) return a > b;
  return ia < ib;
}

/**
 * The k largest values with their indices, largest first, ties by lower index, NaN last.
 * k larger than the row is clamped to its length. For small k this is one pass with an insertion
 * buffer (vocabulary-sized rows, k of a few); for large k a full sort.
 */
export function topK(values: NumericRow, k: number): TopK {
  if (!Number.isInteger(k) || k < 0) {
    throw new ShortvError('E_MATH_ARGUMENT', `topK needs a non-negative integer k, got ${k}`);
  }
  const n = values.length;
  const count = Math.min(k, n);
  if (count === 0) return { indices: [], values: [] };
  if (count > 64) {
    const order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => (ranksBefore(values[a]!, a, values[b]!, b) ? -1 : 1));
    const indices = order.slice(0, count);
    return { indices, values: indices.map((i) => values[i]!) };
  }
  const indices: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (indices.length === count) {
      const last = indices[count - 1]!;
      if (!ranksBefore(v, i, values[last]!, last)) continue;
      indices.pop();
    }
    let at = indices.length;
    while (at > 0 && ranksBefore(v, i, values[indices[at - 1]!]!, indices[at - 1]!)) at -= 1;
    indices.splice(at, 0, i);
  }
  return { indices, values: indices.map((i) => values[i]!) };
}
