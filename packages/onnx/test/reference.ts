/** Plain TypeScript versions of the ops under test, written from their definitions. */

export function matmul(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  m: number,
  k: number,
  n: number,
): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let t = 0; t < k; t++) sum += a[i * k + t]! * b[t * n + j]!;
      out[i * n + j] = sum;
    }
  }
  return out;
}

/** Softmax over the last axis of a [rows, cols] array. */
export function softmaxRows(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let c = 0; c < cols; c++) max = Math.max(max, x[r * cols + c]!);
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += Math.exp(x[r * cols + c]! - max);
    for (let c = 0; c < cols; c++) out[r * cols + c] = Math.exp(x[r * cols + c]! - max) / sum;
  }
  return out;
}

/** RMSNorm over the last axis: x / sqrt(mean(x^2) + eps) * weight. */
export function rmsNormRows(
  x: ArrayLike<number>,
  weight: ArrayLike<number>,
  rows: number,
  eps: number,
): Float64Array {
  const cols = weight.length;
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let sq = 0;
    for (let c = 0; c < cols; c++) sq += x[r * cols + c]! ** 2;
    const scale = 1 / Math.sqrt(sq / cols + eps);
    for (let c = 0; c < cols; c++) out[r * cols + c] = x[r * cols + c]! * scale * weight[c]!;
  }
  return out;
}

/** Deterministic pseudo-random values in [-1, 1) so tests need no fixtures. */
export function seededValues(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = ((state >>> 0) / 2 ** 32) * 2 - 1;
  }
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}
