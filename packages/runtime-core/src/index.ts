export { StreamingDetokenizer } from './detokenize.ts';
export type {
  EngineOptions,
  GenerationChunk,
  GenerationRequest,
  GenerationResult,
} from './engine.ts';
export { VlmEngine } from './engine.ts';
export { GenerationAbortedError } from './errors.ts';
export { KvCache } from './kv-cache.ts';
export type { CleanPass, LayerRunOptions, PreparedSequence } from './layerwise.ts';
export { answerTokenIds, LayerwiseRunner } from './layerwise.ts';
export type { ModelFiles, TensorEntry } from './model-files.ts';
export { readModelFiles } from './model-files.ts';
export type {
  GraphCache,
  RuntimePlatform,
  SessionOptions,
  WeightsFile,
  WeightsFileEntry,
  WeightsFileWriter,
  WeightsStore,
} from './platform.ts';
export { defaultPlatform, registerPlatform } from './platform.ts';
export type { PromptIds } from './prompt.ts';
export { buildPromptIds, IMAGE_PLACEHOLDER } from './prompt.ts';
export { createRandom } from './random.ts';
export type { Sampler, SamplingOptions } from './sampling.ts';
export { createSampler, validateSampling } from './sampling.ts';
export { decoderFormKey, GRAPH_BUILDER_VERSION, openGraphSession } from './sessions.ts';
export type { GenerationStats } from './stats.ts';
export type { ChatMessage } from './tokenizer.ts';
export { TextTokenizer } from './tokenizer.ts';
export type { WeightFormat } from './weights-file.ts';
export { checkpointDigest, QUANT_BLOCK_SIZE } from './weights-file.ts';
