import { ShortvError } from '@shortv/tensor';
import { DataLocation, type GraphProto, type ModelProto, type TensorProto } from './proto.ts';

export interface ExternalDataOptions {
  /** File name of the data file, relative to the directory the `.onnx` file is saved in. */
  location: string;
  /** Initializers of fewer bytes than this stay inline (default 1024). */
  threshold?: number;
}

/**
 * The weights file a model refers to. `chunks` are views of the tensors' own memory plus zero padding, in
 * file order: write them one after another (never concatenated here, since a multi-GB model would not fit
 * in one ArrayBuffer).
 */
export interface ExternalDataFile {
  location: string;
  byteLength: number;
  chunks: Uint8Array[];
}

const DEFAULT_THRESHOLD = 1024;
// Large tensors start on 64 KiB boundaries (a multiple of every common page size and of the Windows mapping
// granularity) so a runtime can map them straight from the file; small ones only need element alignment.
const LARGE_TENSOR_BYTES = 1024 * 1024;
const LARGE_ALIGNMENT = 65536;
const SMALL_ALIGNMENT = 64;

/**
 * Returns a copy of the model whose initializers of `threshold` bytes or more point into one external data
 * file, and that file's chunks. The input model is left untouched.
 */
export function moveToExternalData(
  model: ModelProto,
  options: ExternalDataOptions,
): { model: ModelProto; file: ExternalDataFile } {
  const { location } = options;
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  if (!location || location.startsWith('/') || location.split(/[\\/]/).includes('..')) {
    throw new ShortvError(
      'E_ONNX_EXTERNAL_DATA',
      `external data location '${location}' must be a relative file name inside the model's directory, e.g. 'model.onnx.data'`,
    );
  }
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const place = (tensor: TensorProto): TensorProto => {
    const raw = tensor.rawData;
    if (!raw || raw.byteLength < threshold || tensor.dataLocation === DataLocation.EXTERNAL) return tensor;
    const alignment = raw.byteLength >= LARGE_TENSOR_BYTES ? LARGE_ALIGNMENT : SMALL_ALIGNMENT;
    const padding = (alignment - (offset % alignment)) % alignment;
    if (padding > 0) {
      chunks.push(new Uint8Array(padding));
      offset += padding;
    }
    chunks.push(raw);
    const moved: TensorProto = { ...tensor, dataLocation: DataLocation.EXTERNAL };
    delete moved.rawData;
    moved.externalData = [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.byteLength) },
    ];
    offset += raw.byteLength;
    return moved;
  };
  const graph: GraphProto | undefined = model.graph && {
    ...model.graph,
    initializer: (model.graph.initializer ?? []).map(place),
  };
  return { model: { ...model, graph }, file: { location, byteLength: offset, chunks } };
}

/** One buffer holding all chunks: fine for tests and small models, impossible for multi-GB ones. */
export function concatChunks(chunks: readonly Uint8Array[]): Uint8Array {
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Where an externally stored tensor's bytes are, as written in its `externalData` entries. */
export function externalDataRef(
  tensor: TensorProto,
): { location: string; offset: number; length?: number } | null {
  if (tensor.dataLocation !== DataLocation.EXTERNAL) return null;
  const entries = new Map((tensor.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = entries.get('location');
  if (!location) {
    throw new ShortvError(
      'E_ONNX_EXTERNAL_DATA',
      `tensor '${tensor.name ?? ''}' is marked external but has no 'location' entry; re-export the model`,
    );
  }
  const length = entries.get('length');
  return {
    location,
    offset: Number(entries.get('offset') ?? 0),
    ...(length === undefined ? {} : { length: Number(length) }),
  };
}
