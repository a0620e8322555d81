import type { GraphCache, RuntimePlatform, SessionOptions } from '@shortv/runtime-core';
import { type DataTypeMap, type OrtTensorType, ShortvError } from '@shortv/tensor';
import * as ort from 'onnxruntime-node';
import { DiskGraphCache } from './graph-cache.ts';

export interface NodePlatformOptions {
  /** Threads ORT may use inside one operator when a session does not say (0 or unset: ORT's default). */
  intraOpThreads?: number;
  /** Directory for encoded graphs; without it the platform has no graph cache. */
  cacheDir?: string;
}

function checkThreads(value: number | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 0) {
    throw new ShortvError(
      'E_RUNTIME_OPTION',
      `${what} must be a whole number >= 0 (0 lets ONNX Runtime choose), got ${value}`,
    );
  }
  return value === 0 ? undefined : value;
}

/** The onnxruntime-node platform: CPU sessions of onnxruntime-node's own build, and an optional disk cache. */
export function nodePlatform(options: NodePlatformOptions = {}): RuntimePlatform {
  const defaultThreads = checkThreads(options.intraOpThreads, 'intraOpThreads');
  const graphCache: GraphCache | undefined =
    options.cacheDir === undefined ? undefined : new DiskGraphCache(options.cacheDir);

  return {
    name: 'node',
    ...(graphCache ? { graphCache } : {}),

    async createSession(model: Uint8Array, sessionOptions: SessionOptions = {}) {
      const threads = checkThreads(sessionOptions.intraOpThreads, 'intraOpThreads') ?? defaultThreads;
      const ortOptions: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all' };
      if (threads !== undefined) ortOptions.intraOpNumThreads = threads;
      try {
        return await ort.InferenceSession.create(model, ortOptions);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new ShortvError(
          'E_RUNTIME_SESSION',
          `onnxruntime-node could not load a ${model.byteLength}-byte model: ${reason}. ` +
            'If it came from a graph cache, clear the cache directory and run again.',
          { cause: error },
        );
      }
    },

    createTensor<T extends OrtTensorType>(type: T, data: DataTypeMap[T], dims: readonly number[]) {
      return new ort.Tensor(type, data, dims);
    },
  };
}
