// Test helpers shared by the packages that drive the engine (runtime-core, lc, eval): a tiny random
// LLaVA folder, its word tokenizer, test images, freeze plans and the two ORT test platforms.
export { nodeTestPlatform, testPlatforms, wasmTestPlatform } from './platforms.ts';
export { testImage, tinyFreezePlan, tinyModelFolder } from './tiny-model.ts';
export { TINY_TOKENIZER_CONFIG, TINY_WORDS, wordTokenizerJson } from './tokenizer.ts';
