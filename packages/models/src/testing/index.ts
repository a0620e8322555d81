export { SeededRandom } from './random.ts';
export type { TinyLlavaCheckpoint, TinyLlavaOptions } from './tiny-llava.ts';
export { checkpointFiles, tinyLlavaCheckpoint, tinyLlavaFiles } from './tiny-llava.ts';
export { createTinyLlava, writeCheckpointFolder } from './write.ts';
