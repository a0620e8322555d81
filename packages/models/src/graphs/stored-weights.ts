import type { ExternalTensorRef } from '@shortv/onnx';
import { ShortvError, Tensor } from '@shortv/tensor';

/**
 * One initializer of the emitted graphs, described by where its values come from rather than by the
 * values: so the whole set can be listed from shapes alone, and written to a weights file one tensor at a
 * time.
 */
export interface StoredWeight {
  /** Initializer name in the graphs. */
  readonly stored: string;
  /** Canonical checkpoint tensor it is made from. */
  readonly source: string;
  /**
   * 'transpose': a 2-D [out, in] Linear weight stored as [in, out]. 'quantized' / 'scales': the packed
   * blocks and the per-block scales of a [out, in] Linear weight in MatMulNBits' layout.
   */
  readonly transform: 'plain' | 'transpose' | 'quantized' | 'scales';
  /** Dims to store a plain tensor under (same elements, same order), when not its own. */
  readonly dims?: readonly number[];
  /** For 'quantized' and 'scales'. */
  readonly quantization?: WeightQuantization;
}

/** Block-wise symmetric weight-only quantization (ORT MatMulNBits). */
export interface WeightQuantization {
  readonly bits: 4 | 8;
  readonly blockSize: number;
}

/** Stored name of a block-quantized Linear weight's packed blocks (its scales add `.scales`). */
export function quantizedWeightName(name: string, bits: WeightQuantization['bits']): string {
  return `${name}.q${bits}`;
}

/** Whether stored weight names include block-quantized (MatMulNBits) weights. */
export function holdsQuantizedWeights(names: Iterable<string>): boolean {
  for (const name of names) if (/\.q(4|8)$/.test(name)) return true;
  return false;
}

/** The dtype a stored weight has. */
export function storedDType(weight: StoredWeight): 'float32' | 'uint8' {
  return weight.transform === 'quantized' ? 'uint8' : 'float32';
}

function quantization(weight: StoredWeight): WeightQuantization {
  if (!weight.quantization) {
    throw new ShortvError(
      'E_MODEL_QUANTIZATION',
      `${weight.stored} is ${weight.transform} but names no quantization`,
    );
  }
  return weight.quantization;
}

/** An external initializer's location plus its dims. */
export interface ExternalWeightRef extends ExternalTensorRef {
  readonly dims: readonly number[];
}

/** What MatMulNBits needs besides the tensors. */
export interface QuantizedLinear {
  readonly n: number;
  readonly k: number;
  readonly bits: 4 | 8;
  readonly blockSize: number;
}

/** Resolves stored weights to their place in an external data file. */
export interface ExternalWeightTable {
  ref(weight: StoredWeight): ExternalWeightRef;
}

/**
 * Weights that already live in an external data file. Passed where emitters take a weight map, it makes
 * them reference the file instead of embedding bytes; it holds no tensor values itself, so JS memory does
 * not grow with the model.
 */
export class ExternalWeights extends Map<string, Tensor<'float32'>> {
  constructor(
    readonly table: ExternalWeightTable,
    /** Decoder Linear weights stored block-quantized for MatMulNBits (the file holds them that way). */
    readonly quantization?: WeightQuantization,
  ) {
    super();
  }
}

/** The dims a stored weight has, given the dims of its source tensor. */
export function storedDims(weight: StoredWeight, sourceDims: readonly number[]): number[] {
  if (weight.transform === 'transpose') {
    if (sourceDims.length !== 2) {
      throw new ShortvError(
        'E_MODEL_TENSOR_SHAPE',
        `${weight.source} must be 2-D to be stored transposed as ${weight.stored}, got [${sourceDims.join(', ')}]`,
      );
    }
    return [sourceDims[1]!, sourceDims[0]!];
  }
  if (weight.transform === 'quantized' || weight.transform === 'scales') {
    const q = quantization(weight);
    const [n, k] = sourceDims as [number, number];
    const blocks = Math.ceil(k / q.blockSize);
    return weight.transform === 'scales' ? [n * blocks] : [n, blocks, (q.blockSize * q.bits) / 8];
  }
  return [...(weight.dims ?? sourceDims)];
}

/**
 * Block-wise symmetric quantization of a [n, k] Linear weight, in MatMulNBits' layout: per row and block of
 * k, scale = (the value of largest magnitude) / -2^(bits-1), q = round(w / scale) + 2^(bits-1) clamped to
 * the unsigned range (the zero point MatMulNBits assumes when none is given); 4-bit values are packed two
 * per byte, the even element in the low nibble. A k that is not a multiple of the block is zero-padded.
 */
export function quantizeLinear(
  source: Tensor<'float32'>,
  q: WeightQuantization,
): { packed: Tensor<'uint8'>; scales: Tensor<'float32'> } {
  const [n, k] = source.dims as [number, number];
  const blocks = Math.ceil(k / q.blockSize);
  const blob = (q.blockSize * q.bits) / 8;
  const packed = new Uint8Array(n * blocks * blob);
  const scales = new Float32Array(n * blocks);
  const zero = 1 << (q.bits - 1);
  const max = (1 << q.bits) - 1;
  const data = source.data;
  const values = new Uint8Array(q.blockSize);
  for (let r = 0; r < n; r++) {
    for (let b = 0; b < blocks; b++) {
      const start = r * k + b * q.blockSize;
      const end = r * k + Math.min(k, (b + 1) * q.blockSize);
      let extreme = 0;
      for (let i = start; i < end; i++) if (Math.abs(data[i]!) > Math.abs(extreme)) extreme = data[i]!;
      const scale = extreme / -zero;
      const inv = scale === 0 ? 0 : 1 / scale;
      values.fill(zero);
      for (let i = start; i < end; i++)
        values[i - start] = Math.min(max, Math.max(0, Math.round(data[i]! * inv) + zero));
      scales[r * blocks + b] = scale;
      const at = (r * blocks + b) * blob;
      if (q.bits === 8) packed.set(values, at);
      else for (let j = 0; j < blob; j++) packed[at + j] = values[2 * j]! | (values[2 * j + 1]! << 4);
    }
  }
  return {
    packed: new Tensor('uint8', packed, [n, blocks, blob]),
    scales: new Tensor('float32', scales, [n * blocks]),
  };
}

/** The stored tensor made from its source tensor's values. */
export function materializeWeight(weight: StoredWeight, source: Tensor<'float32'>): Tensor {
  if (weight.transform === 'quantized' || weight.transform === 'scales') {
    const { packed, scales } = quantizeLinear(source, quantization(weight));
    return weight.transform === 'quantized' ? packed : scales;
  }
  const dims = storedDims(weight, source.dims);
  if (weight.transform === 'plain') return weight.dims ? source.reshape(dims) : source;
  const [rows, cols] = source.dims as [number, number];
  const out = new Float32Array(rows * cols);
  const data = source.data;
  for (let r = 0; r < rows; r++) {
    const at = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[at + c]!;
  }
  return new Tensor('float32', out, dims);
}
