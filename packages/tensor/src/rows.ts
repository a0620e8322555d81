import { ShortvError } from './errors.ts';
import { type DataTypeMap, type DType, Tensor } from './tensor.ts';

interface RowLayout {
  batch: number;
  seq: number;
  width: number;
}

/** [B, S, D] or [S, D]: rows are along S, each D elements wide. */
function rowLayout(t: Tensor, what: string): RowLayout {
  if (t.rank === 3) return { batch: t.dims[0]!, seq: t.dims[1]!, width: t.dims[2]! };
  if (t.rank === 2) return { batch: 1, seq: t.dims[0]!, width: t.dims[1]! };
  throw new ShortvError(
    'E_TENSOR_SHAPE',
    `${what} works on [B, S, D] or [S, D] tensors, got shape [${t.dims.join(', ')}]`,
  );
}

function checkIndices(indices: readonly number[], seq: number, what: string, unique: boolean): void {
  const seen = unique ? new Set<number>() : undefined;
  for (const index of indices) {
    if (!Number.isInteger(index) || index < 0 || index >= seq) {
      throw new ShortvError(
        'E_TENSOR_INDEX',
        `${what}: row index ${index} is outside the sequence axis of length ${seq}`,
      );
    }
    if (seen) {
      if (seen.has(index)) {
        throw new ShortvError(
          'E_TENSOR_INDEX',
          `${what}: row index ${index} appears twice; the result would be ambiguous`,
        );
      }
      seen.add(index);
    }
  }
}

/** Copies rows `indices` of the sequence axis into a new tensor of shape [B, n, D] (or [n, D]). */
export function gatherRows<T extends DType>(t: Tensor<T>, indices: readonly number[]): Tensor<T> {
  const { batch, seq, width } = rowLayout(t, 'gatherRows');
  checkIndices(indices, seq, 'gatherRows', false);
  const n = indices.length;
  const dims = t.rank === 3 ? [batch, n, width] : [n, width];
  const out = Tensor.zeros(t.dtype, dims);
  const source = t.data as unknown as DataTypeMap['float32'];
  const target = out.data as unknown as DataTypeMap['float32'];
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < n; r++) {
      const from = (b * seq + indices[r]!) * width;
      target.set(source.subarray(from, from + width), (b * n + r) * width);
    }
  }
  return out;
}

/**
 * Writes `rows` ([B, n, D] or [n, D]) into `target` at sequence positions `indices`, in place, and
 * returns `target`. Indices must be distinct.
 */
export function scatterRows<T extends DType>(
  target: Tensor<T>,
  indices: readonly number[],
  rows: Tensor<T>,
): Tensor<T> {
  const into = rowLayout(target, 'scatterRows');
  const from = rowLayout(rows, 'scatterRows');
  if (target.dtype !== rows.dtype) {
    throw new ShortvError(
      'E_TENSOR_DTYPE',
      `scatterRows: rows are ${rows.dtype} but the target is ${target.dtype}`,
    );
  }
  if (
    target.rank !== rows.rank ||
    from.batch !== into.batch ||
    from.width !== into.width ||
    from.seq !== indices.length
  ) {
    throw new ShortvError(
      'E_TENSOR_SHAPE',
      `scatterRows: ${indices.length} indices into [${target.dims.join(', ')}] need rows shaped ` +
        `${target.rank === 3 ? `[${into.batch}, ${indices.length}, ${into.width}]` : `[${indices.length}, ${into.width}]`}, ` +
        `got [${rows.dims.join(', ')}]`,
    );
  }
  checkIndices(indices, into.seq, 'scatterRows', true);
  const source = rows.data as unknown as DataTypeMap['float32'];
  const dest = target.data as unknown as DataTypeMap['float32'];
  const { width } = into;
  const n = indices.length;
  for (let b = 0; b < into.batch; b++) {
    for (let r = 0; r < n; r++) {
      const at = (b * n + r) * width;
      dest.set(source.subarray(at, at + width), (b * into.seq + indices[r]!) * width);
    }
  }
  return target;
}
