import type { DataTypeMap, OrtTensorType } from '@shortv/tensor';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';

export interface SessionOptions {
  /** Threads ORT may use inside one operator (0 = ORT's default). */
  intraOpThreads?: number;
  /**
   * The weights file the graph's external initializers point into (set by the engine on platforms with a
   * weights store): the platform tells ORT where it is.
   */
  weightsFile?: WeightsFile;
}

/** Where one stored weight is in a weights file. */
export interface WeightsFileEntry {
  readonly offset: number;
  readonly length: number;
  readonly dims: readonly number[];
}

/** A model's weights written once, as the graphs' external data: every session maps the same bytes. */
export interface WeightsFile {
  /** The file name graphs put in their external data `location`. */
  readonly location: string;
  readonly byteLength: number;
  readonly entries: ReadonlyMap<string, WeightsFileEntry>;
}

/** Receives the stored weights in order while a weights file is written. */
export interface WeightsFileWriter {
  append(name: string, bytes: Uint8Array, dims: readonly number[]): Promise<void>;
}

/**
 * Weights files by key. `open` returns the file for `key`, first writing it through `write` when the store
 * does not hold a complete one; a partly written file is never returned.
 */
export interface WeightsStore {
  open(key: string, write: (writer: WeightsFileWriter) => Promise<void>): Promise<WeightsFile>;
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
  /** Present where sessions can share one weights file (external data) instead of embedding the weights. */
  readonly weightsStore?: WeightsStore;
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
