import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LlavaConfig } from '../config/types.ts';
import {
  checkpointFiles,
  type TinyLlavaCheckpoint,
  type TinyLlavaOptions,
  tinyLlavaCheckpoint,
} from './tiny-llava.ts';

/** Writes a checkpoint's files (config.json + safetensors) into `dir`, creating it. */
export async function writeCheckpointFolder(
  dir: string,
  checkpoint: Pick<TinyLlavaCheckpoint, 'configJson' | 'tensors'>,
  shards = 1,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(checkpointFiles(checkpoint, shards))) {
    await writeFile(join(dir, name), content);
  }
}

/** Writes a random-weight tiny LLaVA HF folder into `dir` and returns its parsed config. */
export async function createTinyLlava(dir: string, options: TinyLlavaOptions = {}): Promise<LlavaConfig> {
  const checkpoint = tinyLlavaCheckpoint(options);
  await writeCheckpointFolder(dir, checkpoint, options.shards ?? 1);
  return checkpoint.config;
}
