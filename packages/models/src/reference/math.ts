import { ShortvError, type Tensor } from '@shortv/tensor';
import type { Activation } from '../config/types.ts';

/**
 * Row-major float64 matrices for the reference forward. Everything here is written from the math, in
 * float64, so the ONNX graphs (float32) are checked against something more exact than themselves.
 */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

export type WeightMap = ReadonlyMap<string, Tensor<'float32'>>;

export function matrix(rows: number, cols: number, data?: Float64Array): Matrix {
  return { rows, cols, data: data ?? new Float64Array(rows * cols) };
}

export function weight(weights: WeightMap, name: string): Tensor<'float32'> {
  const t = weights.get(name);
  if (t === undefined)
    throw new ShortvError('E_MODEL_MISSING_TENSOR', `reference: weight ${name} is not loaded`);
  return t;
}

export function hasWeight(weights: WeightMap, name: string): boolean {
  return weights.has(name);
}

/** x [n, in] times W^T for a PyTorch Linear weight W [out, in], plus an optional bias [out]. */
export function linear(x: Matrix, w: Tensor<'float32'>, bias?: Tensor<'float32'>): Matrix {
  const [outDim, inDim] = w.dims as [number, number];
  if (inDim !== x.cols) {
    throw new ShortvError(
      'E_MODEL_INTERNAL',
      `linear: input width ${x.cols} does not match weight [${w.dims}]`,
    );
  }
  const out = matrix(x.rows, outDim);
  const wd = w.data;
  for (let r = 0; r < x.rows; r++) {
    const xo = r * inDim;
    for (let o = 0; o < outDim; o++) {
      let acc = bias ? bias.data[o]! : 0;
      const wo = o * inDim;
      for (let k = 0; k < inDim; k++) acc += x.data[xo + k]! * wd[wo + k]!;
      out.data[r * outDim + o] = acc;
    }
  }
  return out;
}

export function add(a: Matrix, b: Matrix): Matrix {
  const out = matrix(a.rows, a.cols);
  for (let i = 0; i < out.data.length; i++) out.data[i] = a.data[i]! + b.data[i]!;
  return out;
}

export function layerNorm(x: Matrix, gamma: Tensor<'float32'>, beta: Tensor<'float32'>, eps: number): Matrix {
  const out = matrix(x.rows, x.cols);
  for (let r = 0; r < x.rows; r++) {
    const o = r * x.cols;
    let mean = 0;
    for (let c = 0; c < x.cols; c++) mean += x.data[o + c]!;
    mean /= x.cols;
    let variance = 0;
    for (let c = 0; c < x.cols; c++) variance += (x.data[o + c]! - mean) ** 2;
    variance /= x.cols;
    const inv = 1 / Math.sqrt(variance + eps);
    for (let c = 0; c < x.cols; c++) {
      out.data[o + c] = (x.data[o + c]! - mean) * inv * gamma.data[c]! + beta.data[c]!;
    }
  }
  return out;
}

export function rmsNorm(x: Matrix, gamma: Tensor<'float32'>, eps: number): Matrix {
  const out = matrix(x.rows, x.cols);
  for (let r = 0; r < x.rows; r++) {
    const o = r * x.cols;
    let ms = 0;
    for (let c = 0; c < x.cols; c++) ms += x.data[o + c]! ** 2;
    const inv = 1 / Math.sqrt(ms / x.cols + eps);
    for (let c = 0; c < x.cols; c++) out.data[o + c] = x.data[o + c]! * inv * gamma.data[c]!;
  }
  return out;
}

/** The error function to ~1e-14: Maclaurin series near 0, erfc continued fraction further out. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: converges fast for small |x|.
    let term = x;
    let sum = x;
    const x2 = x * x;
    for (let n = 1; n < 60; n++) {
      term *= -x2 / n;
      const next = term / (2 * n + 1);
      sum += next;
      if (Math.abs(next) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // Continued fraction for erfc at larger |x|.
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return Math.sign(x) * (1 - erfc);
}

export function activate(x: number, act: Activation): number {
  switch (act) {
    case 'gelu':
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'gelu_tanh':
      return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    case 'quick_gelu':
      return x / (1 + Math.exp(-1.702 * x));
    case 'silu':
      return x / (1 + Math.exp(-x));
    case 'relu':
      return Math.max(0, x);
  }
}

export function activateMatrix(x: Matrix, act: Activation): Matrix {
  const out = matrix(x.rows, x.cols);
  for (let i = 0; i < x.data.length; i++) out.data[i] = activate(x.data[i]!, act);
  return out;
}

/** In-place softmax of `values[0..n)`, where entries set to -Infinity get probability 0. */
export function softmaxInPlace(values: Float64Array): void {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) max = Math.max(max, v);
  if (max === Number.NEGATIVE_INFINITY) {
    values.fill(0);
    return;
  }
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const e = Math.exp(values[i]! - max);
    values[i] = e;
    sum += e;
  }
  for (let i = 0; i < values.length; i++) values[i] = values[i]! / sum;
}
