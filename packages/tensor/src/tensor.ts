import { ShortvError } from './errors.ts';

export type DType = 'float32' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

/** Storage per dtype. float16/bfloat16 are kept as raw 16-bit patterns; convert with fp16.ts. */
export interface DataTypeMap {
  float32: Float32Array;
  float16: Uint16Array;
  bfloat16: Uint16Array;
  int64: BigInt64Array;
  int32: Int32Array;
  int8: Int8Array;
  uint8: Uint8Array;
  bool: Uint8Array;
}

export type TensorData = DataTypeMap[DType];

export const BYTES_PER_ELEMENT: Readonly<Record<DType, number>> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int8: 1,
  uint8: 1,
  bool: 1,
};

const CONSTRUCTORS = {
  float32: Float32Array,
  float16: Uint16Array,
  bfloat16: Uint16Array,
  int64: BigInt64Array,
  int32: Int32Array,
  int8: Int8Array,
  uint8: Uint8Array,
  bool: Uint8Array,
} as const;

export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ShortvError('E_TENSOR_SHAPE', `invalid dimension ${d} in shape [${dims.join(', ')}]`);
    }
    n *= d;
  }
  return n;
}

/** A dense, row-major tensor. `data` is shared, not copied, wherever the caller hands one in. */
export class Tensor<T extends DType = DType> {
  readonly dtype: T;
  readonly dims: readonly number[];
  readonly data: DataTypeMap[T];

  constructor(dtype: T, data: DataTypeMap[T], dims: readonly number[]) {
    const expected = elementCount(dims);
    if (!(data instanceof CONSTRUCTORS[dtype])) {
      throw new ShortvError(
        'E_TENSOR_DTYPE',
        `data for a ${dtype} tensor must be a ${CONSTRUCTORS[dtype].name}`,
      );
    }
    if (data.length !== expected) {
      throw new ShortvError(
        'E_TENSOR_SHAPE',
        `shape [${dims.join(', ')}] needs ${expected} elements but data has ${data.length}`,
      );
    }
    this.dtype = dtype;
    this.data = data;
    this.dims = Object.freeze([...dims]);
  }

  static zeros<T extends DType>(dtype: T, dims: readonly number[]): Tensor<T> {
    const data = new CONSTRUCTORS[dtype](elementCount(dims)) as DataTypeMap[T];
    return new Tensor(dtype, data, dims);
  }

  static fromBytes<T extends DType>(dtype: T, bytes: Uint8Array, dims: readonly number[]): Tensor<T> {
    const width = BYTES_PER_ELEMENT[dtype];
    if (bytes.byteLength !== elementCount(dims) * width) {
      throw new ShortvError(
        'E_TENSOR_SHAPE',
        `shape [${dims.join(', ')}] of ${dtype} needs ${elementCount(dims) * width} bytes, got ${bytes.byteLength}`,
      );
    }
    const Ctor = CONSTRUCTORS[dtype];
    // Views need aligned offsets; copy only when the source is misaligned.
    const aligned = bytes.byteOffset % width === 0;
    const buffer = aligned ? bytes : bytes.slice();
    const data = new Ctor(buffer.buffer as ArrayBuffer, buffer.byteOffset, buffer.byteLength / width);
    return new Tensor(dtype, data as DataTypeMap[T], dims);
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.dims.length;
  }

  /** Bytes of the underlying data, little-endian as every supported platform stores typed arrays. */
  bytes(): Uint8Array {
    return new Uint8Array(this.data.buffer, this.data.byteOffset, this.data.byteLength);
  }

  reshape(dims: readonly number[]): Tensor<T> {
    return new Tensor(this.dtype, this.data, dims);
  }
}
