import { ShortvError } from './errors.ts';
import { bfloat16ToFloat32 } from './float16.ts';
import { type DataTypeMap, Tensor } from './tensor.ts';

/** The ONNX Runtime tensor types this package can exchange (ORT has no bfloat16). */
export type OrtTensorType = 'float32' | 'float16' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

/**
 * What `new ort.Tensor(type, data, dims)` takes and what an ORT tensor exposes, described
 * structurally so this package needs no onnxruntime dependency.
 */
export interface OrtTensorData<T extends OrtTensorType = OrtTensorType> {
  type: T;
  dims: number[];
  data: DataTypeMap[T];
}

/** The fields read from an ORT tensor (or anything shaped like one). */
export interface OrtTensorLike {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
  readonly location?: string;
}

const ORT_TYPES: ReadonlySet<string> = new Set<OrtTensorType>([
  'float32',
  'float16',
  'int64',
  'int32',
  'int8',
  'uint8',
  'bool',
]);

/**
 * Describes `t` for `new ort.Tensor(x.type, x.data, x.dims)`. The typed array is shared, not copied,
 * except for bfloat16, which ORT's JS API cannot hold: it is widened to a new float32 array.
 */
export function toOrtTensorData(t: Tensor): OrtTensorData {
  if (t.dtype === 'bfloat16') {
    return { type: 'float32', dims: [...t.dims], data: bfloat16ToFloat32(t.data as Uint16Array) };
  }
  return { type: t.dtype, dims: [...t.dims], data: t.data } as OrtTensorData;
}

/**
 * Wraps an ORT tensor's CPU data without copying. float16 data may arrive as a Uint16Array or, on
 * runtimes that have it, a Float16Array; both are viewed as raw 16-bit patterns.
 */
export function fromOrtTensor(x: OrtTensorLike): Tensor {
  if (x.location !== undefined && x.location !== 'cpu' && x.location !== 'cpu-pinned') {
    throw new ShortvError(
      'E_TENSOR_ORT_LOCATION',
      `the ORT tensor lives in '${x.location}'; download it first (await tensor.getData()) and wrap a CPU tensor`,
    );
  }
  if (!ORT_TYPES.has(x.type)) {
    throw new ShortvError(
      'E_TENSOR_ORT_TYPE',
      `ORT tensor type '${x.type}' is not supported; expected one of ${[...ORT_TYPES].join(', ')}`,
    );
  }
  const type = x.type as OrtTensorType;
  let data = x.data;
  if (type === 'float16' && ArrayBuffer.isView(data) && !(data instanceof Uint16Array)) {
    const view = data as unknown as { BYTES_PER_ELEMENT?: number; length: number };
    if (view.BYTES_PER_ELEMENT === 2) data = new Uint16Array(data.buffer, data.byteOffset, view.length);
  }
  try {
    return new Tensor(type, data as DataTypeMap[OrtTensorType], x.dims);
  } catch (error) {
    if (error instanceof ShortvError) {
      throw new ShortvError('E_TENSOR_ORT_DATA', `ORT tensor of type '${type}': ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
}
