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
  /** 'transpose': a 2-D [out, in] Linear weight stored as [in, out]. */
  readonly transform: 'plain' | 'transpose';
  /** Dims to store a plain tensor under (same elements, same order), when not its own. */
  readonly dims?: readonly number[];
}

/** An external initializer's location plus its dims. */
export interface ExternalWeightRef extends ExternalTensorRef {
  readonly dims: readonly number[];
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
  constructor(readonly table: ExternalWeightTable) {
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
  return [...(weight.dims ?? sourceDims)];
}

/** The stored tensor made from its source tensor's values. */
export function materializeWeight(weight: StoredWeight, source: Tensor<'float32'>): Tensor<'float32'> {
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
