export { StreamingDetokenizer } from './detokenize.ts';
export type { PromptIds } from './prompt.ts';
export { buildPromptIds, IMAGE_PLACEHOLDER } from './prompt.ts';
export { createRandom } from './random.ts';
export type { Sampler, SamplingOptions } from './sampling.ts';
export { createSampler, validateSampling } from './sampling.ts';
export type { ChatMessage } from './tokenizer.ts';
export { TextTokenizer } from './tokenizer.ts';
