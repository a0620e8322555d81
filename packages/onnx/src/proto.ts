import { type DType, ShortvError } from '@shortv/tensor';
import protobuf from 'protobufjs';

/**
 * The subset of onnx.proto (proto2, package `onnx`) this package reads and writes. Field numbers follow the
 * official schema; messages and fields we never emit (training info, functions, sparse tensors, maps and
 * sequences) are left out, and protobuf skips them as unknown fields when decoding a file that has them.
 * The schema is parsed at load time from this string, so no generated code is needed in Node or browsers.
 */
const ONNX_SCHEMA = `
syntax = "proto2";
package onnx;

message AttributeProto {
  enum AttributeType {
    UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5; SPARSE_TENSOR = 11; TYPE_PROTO = 13;
    FLOATS = 6; INTS = 7; STRINGS = 8; TENSORS = 9; GRAPHS = 10; SPARSE_TENSORS = 12; TYPE_PROTOS = 14;
  }
  optional string name = 1;
  optional string ref_attr_name = 21;
  optional string doc_string = 13;
  optional AttributeType type = 20;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  optional GraphProto g = 6;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  repeated TensorProto tensors = 10;
  repeated GraphProto graphs = 11;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
}

message ModelProto {
  optional int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}

message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}

message TensorProto {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated bytes string_data = 6;
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional string doc_string = 12;
  optional bytes raw_data = 9;
  repeated StringStringEntryProto external_data = 13;
  enum DataLocation { DEFAULT = 0; EXTERNAL = 1; }
  optional DataLocation data_location = 14;
  repeated double double_data = 10 [packed = true];
  repeated uint64 uint64_data = 11 [packed = true];
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
    optional string denotation = 3;
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
  optional string denotation = 6;
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
`;

// The protobuf JSON names (camelCase) are what the TypeScript interfaces below use.
const root = protobuf.parse(ONNX_SCHEMA, { keepCase: false }).root;

export const ModelProtoType: protobuf.Type = root.lookupType('onnx.ModelProto');

/** TensorProto.DataType values. */
export const TensorDataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  BFLOAT16: 16,
} as const;

/** AttributeProto.AttributeType values. */
export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
} as const;

export const DataLocation = { DEFAULT: 0, EXTERNAL: 1 } as const;

export interface StringStringEntryProto {
  key?: string;
  value?: string;
}

export interface OperatorSetIdProto {
  /** '' (or absent) is the default ONNX domain `ai.onnx`. */
  domain?: string;
  version?: number;
}

export interface TensorProto {
  dims?: number[];
  dataType?: number;
  name?: string;
  docString?: string;
  rawData?: Uint8Array;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: number[];
  doubleData?: number[];
  uint64Data?: number[];
  stringData?: Uint8Array[];
  externalData?: StringStringEntryProto[];
  dataLocation?: number;
}

export interface TensorShapeDimension {
  dimValue?: number;
  dimParam?: string;
  denotation?: string;
}

export interface TypeProto {
  tensorType?: { elemType?: number; shape?: { dim?: TensorShapeDimension[] } };
  denotation?: string;
}

export interface ValueInfoProto {
  name?: string;
  type?: TypeProto;
  docString?: string;
}

export interface AttributeProto {
  name?: string;
  type?: number;
  docString?: string;
  refAttrName?: string;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
}

export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  opType?: string;
  domain?: string;
  attribute?: AttributeProto[];
  docString?: string;
}

export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  docString?: string;
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  valueInfo?: ValueInfoProto[];
}

export interface ModelProto {
  irVersion?: number;
  opsetImport?: OperatorSetIdProto[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph?: GraphProto;
  metadataProps?: StringStringEntryProto[];
}

/** Element types a graph value can have: every tensor dtype plus the ONNX-only ones a graph may still use. */
export type OnnxDType = DType | 'float64' | 'int16' | 'uint16' | 'uint32' | 'uint64' | 'string';

const DTYPE_TO_ONNX: Readonly<Record<OnnxDType, number>> = {
  float32: TensorDataType.FLOAT,
  float16: TensorDataType.FLOAT16,
  bfloat16: TensorDataType.BFLOAT16,
  float64: TensorDataType.DOUBLE,
  int64: TensorDataType.INT64,
  int32: TensorDataType.INT32,
  int16: TensorDataType.INT16,
  int8: TensorDataType.INT8,
  uint64: TensorDataType.UINT64,
  uint32: TensorDataType.UINT32,
  uint16: TensorDataType.UINT16,
  uint8: TensorDataType.UINT8,
  bool: TensorDataType.BOOL,
  string: TensorDataType.STRING,
};

const ONNX_TO_DTYPE = new Map<number, OnnxDType>(
  Object.entries(DTYPE_TO_ONNX).map(([dtype, code]) => [code, dtype as OnnxDType]),
);

export function onnxDataType(dtype: OnnxDType): number {
  const code = DTYPE_TO_ONNX[dtype];
  if (code === undefined) {
    throw new ShortvError('E_ONNX_DTYPE', `dtype '${dtype}' has no ONNX element type`);
  }
  return code;
}

/** The dtype of an ONNX element type code, or undefined for types this package does not model (float8, int4...). */
export function dtypeFromOnnx(code: number | undefined): OnnxDType | undefined {
  return code === undefined ? undefined : ONNX_TO_DTYPE.get(code);
}
