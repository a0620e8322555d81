import { Tensor } from '@shortv/tensor';
import { type LlavaConfig, memoryModelFolder, openLlavaModel } from '../src/index.ts';
import {
  checkpointFiles,
  SeededRandom,
  type TinyLlavaOptions,
  tinyLlavaCheckpoint,
} from '../src/testing/index.ts';

export interface LoadedTiny {
  readonly config: LlavaConfig;
  readonly weights: Map<string, Tensor<'float32'>>;
}

/** A tiny checkpoint read back through the real loader (so tests see what the runtime sees). */
export async function loadTiny(options: TinyLlavaOptions): Promise<LoadedTiny> {
  const model = await openLlavaModel(memoryModelFolder(checkpointFiles(tinyLlavaCheckpoint(options))));
  const weights = await model.weights.readAll();
  await model.weights.close();
  return { config: model.config, weights };
}

export function randomEmbeds(seed: number, batch: number, seq: number, d: number): Tensor<'float32'> {
  return new Tensor('float32', new SeededRandom(seed).normalArray(batch * seq * d, 1), [batch, seq, d]);
}

export function randomPixels(seed: number, batch: number, config: LlavaConfig): Tensor<'float32'> {
  const v = config.vision;
  const n = batch * v.numChannels * v.imageSize * v.imageSize;
  return new Tensor('float32', new SeededRandom(seed).uniformArray(n, -1, 1), [
    batch,
    v.numChannels,
    v.imageSize,
    v.imageSize,
  ]);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (Number.isNaN(d)) return Number.POSITIVE_INFINITY;
    worst = Math.max(worst, d);
  }
  return worst;
}

/** Rows [b, s] of a [B, S, W] flat array. */
export function row(data: ArrayLike<number>, seq: number, width: number, b: number, s: number): number[] {
  const out: number[] = [];
  const o = (b * seq + s) * width;
  for (let i = 0; i < width; i++) out.push(data[o + i]!);
  return out;
}

/** The acceptance matrix: Llama+CLIP and Qwen2+SigLIP, each with MHA and GQA. */
export const CONFIGS: readonly (TinyLlavaOptions & { label: string })[] = [
  { label: 'llama+clip MHA', text: 'llama', vision: 'clip', numKvHeads: 4, seed: 101 },
  { label: 'llama+clip GQA', text: 'llama', vision: 'clip', numKvHeads: 2, seed: 102 },
  { label: 'qwen2+siglip MHA', text: 'qwen2', vision: 'siglip', numKvHeads: 4, seed: 103 },
  { label: 'qwen2+siglip GQA', text: 'qwen2', vision: 'siglip', numKvHeads: 1, seed: 104 },
];
