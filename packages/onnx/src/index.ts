export type { Attributes, AttributeValue } from './attributes.ts';
export { FloatAttribute, float, tensorToProto } from './attributes.ts';
export type { Dim, ExternalTensorRef, ToModelOptions } from './builder.ts';
export { DEFAULT_IR_VERSION, DEFAULT_OPSET_IMPORTS, GraphBuilder, valueInfo } from './builder.ts';
export type { ModelProblem, ProblemKind } from './check.ts';
export { assertValidModel, checkModel, OnnxInvalidError } from './check.ts';
export type { EncodedModel, EncodeOptions } from './encode.ts';
export { decodeModel, encodeModel, graphTensorBytes, MAX_PROTOBUF_BYTES } from './encode.ts';
export type { ExternalDataFile, ExternalDataOptions } from './external-data.ts';
export { concatChunks, externalDataRef, moveToExternalData } from './external-data.ts';
export type { Dt, InferResult } from './infer.ts';
export { inferNode } from './infer.ts';
export type {
  GroupQueryAttentionInputs,
  MultiHeadAttentionInputs,
  NodeOptions,
  OpHelpers,
  OpName,
  OutputSpec,
} from './ops.ts';
export { MS_DOMAIN, OP_SPECS } from './ops.ts';
export type {
  AttributeProto,
  GraphProto,
  ModelProto,
  NodeProto,
  OnnxDType,
  OperatorSetIdProto,
  StringStringEntryProto,
  TensorProto,
  TensorShapeDimension,
  TypeProto,
  ValueInfoProto,
} from './proto.ts';
export { AttributeType, DataLocation, dtypeFromOnnx, onnxDataType, TensorDataType } from './proto.ts';
