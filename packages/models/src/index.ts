export { parseLlavaConfig, parseLlavaConfigText } from './config/parse.ts';
export type {
  Activation,
  LlavaConfig,
  RopeScaling,
  TextConfig,
  TextModelType,
  VisionConfig,
  VisionModelType,
} from './config/types.ts';
export {
  SUPPORTED_MODEL_TYPES,
  SUPPORTED_TEXT_MODEL_TYPES,
  SUPPORTED_VISION_MODEL_TYPES,
} from './config/types.ts';
export type { TransformersJsDecoderForm } from './export/transformers-js/decoder.ts';
export {
  emitTransformersJsDecoderGraph,
  TRANSFORMERS_JS_DIMS,
  tjsEmbedWidth,
} from './export/transformers-js/decoder.ts';
export {
  emitTransformersJsEmbedGraph,
  emitTransformersJsVisionGraph,
} from './export/transformers-js/encoders.ts';
export type { TransformersJsFile } from './export/transformers-js/folder.ts';
export {
  additionalImageTokens,
  TRANSFORMERS_JS_COPIED_FILES,
  transformersJsFiles,
} from './export/transformers-js/folder.ts';
export {
  GRAPH_IO,
  padTextIndex,
  pastKeyName,
  pastValueName,
  presentKeyName,
  presentValueName,
} from './graphs/contract.ts';
export type { DecoderForm, DecoderGraphOptions, LayerGraphForm } from './graphs/decoder.ts';
export { emitDecoderGraph, emitDecoderLayerGraph, emitHeadGraph } from './graphs/decoder.ts';
export { emitEmbedGraph } from './graphs/embed.ts';
export type { PrunedDecoderForm } from './graphs/pruned.ts';
export { emitPrunedDecoderGraph } from './graphs/pruned.ts';
export type {
  ExternalWeightRef,
  ExternalWeightTable,
  QuantizedLinear,
  StoredWeight,
  WeightQuantization,
} from './graphs/stored-weights.ts';
export {
  ExternalWeights,
  holdsQuantizedWeights,
  materializeWeight,
  quantizedWeightName,
  quantizeLinear,
  storedDims,
  storedDType,
} from './graphs/stored-weights.ts';
export { listStoredWeights } from './graphs/stored-weights-list.ts';
export { emitVisionGraph } from './graphs/vision.ts';
export type { ReferenceDecoderInput, ReferenceDecoderOutput } from './reference/decoder.ts';
export { referenceDecoder, referenceEmbed, ropeInverseFrequencies } from './reference/decoder.ts';
export type { WeightMap } from './reference/math.ts';
export type { MergedSequence } from './reference/merge.ts';
export { findImageTokens, mergeImageFeatures } from './reference/merge.ts';
export type { ReferencePrunedInput, ReferencePrunedOutput } from './reference/pruned.ts';
export { referencePrunedDecoder } from './reference/pruned.ts';
export { referenceImageFeatures, referenceVisionStates } from './reference/vision.ts';
export type { ExpectedTensors } from './weights/expected.ts';
export { expectedTensors } from './weights/expected.ts';
export type { ModelFolder } from './weights/folder.ts';
export { memoryModelFolder } from './weights/folder.ts';
export type { LlavaModel, LlavaWeights } from './weights/load.ts';
export { openLlavaModel, openLlavaWeights } from './weights/load.ts';
export { canonicalName, hfKey } from './weights/names.ts';
