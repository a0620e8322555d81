import { ShortvError } from '@shortv/tensor';
import { type ExternalDataFile, type ExternalDataOptions, moveToExternalData } from './external-data.ts';
import { type GraphProto, type ModelProto, ModelProtoType, type TensorProto } from './proto.ts';

/**
 * protobuf (and so every ONNX loader) refuses messages of 2 GiB or more. Tensor bytes are checked against a
 * slightly lower bound before encoding, leaving room for the graph structure, so that an oversized model
 * fails with a clear fix instead of an opaque parse error at load time.
 */
export const MAX_PROTOBUF_BYTES = 2 ** 31 - 1;
const STRUCTURE_MARGIN_BYTES = 64 * 1024 * 1024;

export interface EncodeOptions {
  /** Move large initializers to a separate file next to the model. Required above ~2 GB of weights. */
  externalData?: ExternalDataOptions;
}

export interface EncodedModel {
  /** The `.onnx` protobuf bytes. */
  bytes: Uint8Array;
  /** The external data file the model refers to, or null when every tensor is inline. */
  externalData: ExternalDataFile | null;
}

export function encodeModel(model: ModelProto, options: EncodeOptions = {}): EncodedModel {
  let externalData: ExternalDataFile | null = null;
  if (options.externalData) {
    const moved = moveToExternalData(model, options.externalData);
    model = moved.model;
    externalData = moved.file;
  }
  const inlineBytes = model.graph ? graphTensorBytes(model.graph) : 0;
  if (inlineBytes > MAX_PROTOBUF_BYTES - STRUCTURE_MARGIN_BYTES) {
    const gb = (inlineBytes / 1e9).toFixed(2);
    const fix = options.externalData
      ? `lower externalData.threshold (now ${options.externalData.threshold ?? 'default'}) so more tensors move out`
      : `pass encodeModel(model, { externalData: { location: 'model.onnx.data' } }) and save that file next to the model`;
    throw new ShortvError(
      'E_ONNX_TOO_LARGE',
      `model '${model.graph?.name ?? ''}' keeps ${gb} GB of tensor data inline, but an ONNX protobuf must stay under 2 GB; ${fix}`,
    );
  }
  const bytes = ModelProtoType.encode(model).finish();
  return { bytes, externalData };
}

/** Parses `.onnx` bytes. Tensors stored externally keep their `externalData` references; nothing is read. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  let message: ReturnType<typeof ModelProtoType.decode>;
  try {
    message = ModelProtoType.decode(bytes);
  } catch (cause) {
    throw new ShortvError(
      'E_ONNX_DECODE',
      `bytes are not a valid ONNX model (${(cause as Error).message}); check that the file is a complete .onnx file`,
      { cause },
    );
  }
  // int64 fields (dims, ir_version, attribute ints) come back as plain numbers: ONNX shapes and attributes fit.
  const model = ModelProtoType.toObject(message, {
    longs: Number,
    defaults: false,
    arrays: false,
  }) as ModelProto;
  if (model.graph) plainBytesInGraph(model.graph);
  return model;
}

/**
 * In Node, protobufjs hands out Buffers, whose slice() shares memory unlike Uint8Array's; give callers plain
 * Uint8Array views (still no copy) so the same code behaves alike in Node and browsers.
 */
function plain(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function plainBytesInTensor(tensor: TensorProto): void {
  if (tensor.rawData) tensor.rawData = plain(tensor.rawData);
  if (tensor.stringData) tensor.stringData = tensor.stringData.map(plain);
}

function plainBytesInGraph(graph: GraphProto): void {
  for (const init of graph.initializer ?? []) plainBytesInTensor(init);
  for (const node of graph.node ?? []) {
    for (const attr of node.attribute ?? []) {
      if (attr.s) attr.s = plain(attr.s);
      if (attr.strings) attr.strings = attr.strings.map(plain);
      if (attr.t) plainBytesInTensor(attr.t);
      for (const t of attr.tensors ?? []) plainBytesInTensor(t);
      if (attr.g) plainBytesInGraph(attr.g);
      for (const g of attr.graphs ?? []) plainBytesInGraph(g);
    }
  }
}

function tensorBytes(tensor: TensorProto): number {
  let n = tensor.rawData?.byteLength ?? 0;
  n += 4 * ((tensor.floatData?.length ?? 0) + (tensor.int32Data?.length ?? 0));
  n +=
    8 *
    ((tensor.int64Data?.length ?? 0) + (tensor.doubleData?.length ?? 0) + (tensor.uint64Data?.length ?? 0));
  return n;
}

/** Inline tensor payload of a graph: initializers plus tensors held in node attributes, subgraphs included. */
export function graphTensorBytes(graph: GraphProto): number {
  let total = 0;
  for (const init of graph.initializer ?? []) total += tensorBytes(init);
  for (const node of graph.node ?? []) {
    for (const attr of node.attribute ?? []) {
      if (attr.t) total += tensorBytes(attr.t);
      for (const t of attr.tensors ?? []) total += tensorBytes(t);
      if (attr.g) total += graphTensorBytes(attr.g);
      for (const g of attr.graphs ?? []) total += graphTensorBytes(g);
    }
  }
  return total;
}
