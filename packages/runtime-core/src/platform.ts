import type { DataTypeMap, OrtTensorType } from '@shortv/tensor';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';

export interface SessionOptions {
  /** Threads ORT may use inside one operator (0 = ORT's default). */
  intraOpThreads?: number;
}

/**
 * Byte store for encoded graphs, keyed by a content key. Implementations must never return a partial or
 * corrupt entry: verify on read and return undefined (the engine rebuilds), write atomically.
 */
export interface GraphCache {
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, bytes: Uint8Array): Promise<void>;
}

/**
 * What a platform (onnxruntime-node, onnxruntime-web) provides to the platform-free engine: sessions and
 * tensors of ITS onnxruntime build (sessions only accept their own Tensor class), and an optional cache.
 */
export interface RuntimePlatform {
  readonly name: string;
  createSession(model: Uint8Array, options?: SessionOptions): Promise<InferenceSession>;
  createTensor<T extends OrtTensorType>(type: T, data: DataTypeMap[T], dims: readonly number[]): OrtTensor;
  readonly graphCache?: GraphCache;
}

const platforms = new Map<string, { platform: RuntimePlatform; priority: number }>();

/** Platform packages register themselves on import (as onnxruntime's node/web packages do). */
export function registerPlatform(platform: RuntimePlatform, priority = 0): void {
  platforms.set(platform.name, { platform, priority });
}

export function defaultPlatform(): RuntimePlatform | undefined {
  let best: { platform: RuntimePlatform; priority: number } | undefined;
  for (const entry of platforms.values()) {
    if (!best || entry.priority > best.priority) best = entry;
  }
  return best?.platform;
}
