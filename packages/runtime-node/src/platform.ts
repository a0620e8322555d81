import { holdsQuantizedWeights } from '@shortv/models';
import type { GraphCache, RuntimePlatform, SessionOptions, WeightsStore } from '@shortv/runtime-core';
import { type DataTypeMap, type OrtTensorType, ShortvError } from '@shortv/tensor';
import * as ort from 'onnxruntime-node';
import { checkCacheMaxBytes, DEFAULT_CACHE_MAX_BYTES } from './cache-dir.ts';
import { DiskGraphCache } from './graph-cache.ts';
import { DiskWeightsStore, NodeWeightsFile } from './weights-store.ts';

export interface NodePlatformOptions {
  /** Threads ORT may use inside one operator when a session does not say (0 or unset: ORT's default). */
  intraOpThreads?: number;
  /**
   * Directory for encoded graphs and the weights files they reference; without it the platform has no
   * graph cache and graphs embed their weights.
   */
  cacheDir?: string;
  /** Size cap of the cache directory in bytes (default 20 GiB); least recently used items go first. */
  cacheMaxBytes?: number;
  /**
   * ORT's weight prepacking for sessions on a shared weights file. Prepacking copies every packed weight into
   * each session (one more copy of the model per session) for MatMul speed; without it every call repacks
   * (fp32) or dequantizes (MatMulNBits) the weights it reads. Measured on this project's machine: the bundled
   * 13 MB model's prefill ran 1.6x slower without it, a OneVision-0.5B-shaped fp32 model's 1.2x, a
   * LLaVA-1.5-7B-shaped int4 model's 2.3x. 'auto' (the default) prepacks quantized weights, whose packed copy
   * is a fraction of the fp32 model, and fp32 weights files up to `PREPACK_AUTO_MAX_BYTES`; larger fp32 files
   * are shared mapped, where a copy per session would double the model's footprint.
   */
  prepackWeights?: boolean | 'auto';
}

/** Largest fp32 weights file that `prepackWeights: 'auto'` prepacks. */
export const PREPACK_AUTO_MAX_BYTES = 256 * 1024 ** 2;

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
  const maxBytes = checkCacheMaxBytes(options.cacheMaxBytes ?? DEFAULT_CACHE_MAX_BYTES);
  const diskCache =
    options.cacheDir === undefined ? undefined : new DiskGraphCache(options.cacheDir, { maxBytes });
  const graphCache: GraphCache | undefined = diskCache;
  const weightsStore: WeightsStore | undefined =
    diskCache && new DiskWeightsStore(diskCache.dir, (paths) => diskCache.evict(paths));

  return {
    name: 'node',
    ...(graphCache ? { graphCache } : {}),
    ...(weightsStore ? { weightsStore } : {}),

    async createSession(model: Uint8Array, sessionOptions: SessionOptions = {}) {
      const threads = checkThreads(sessionOptions.intraOpThreads, 'intraOpThreads') ?? defaultThreads;
      const ortOptions: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all' };
      if (threads !== undefined) ortOptions.intraOpNumThreads = threads;
      const weightsFile = sessionOptions.weightsFile;
      if (weightsFile) {
        if (!(weightsFile instanceof NodeWeightsFile)) {
          throw new ShortvError(
            'E_RUNTIME_OPTION',
            `weights file ${weightsFile.location} was not written by this platform's weights store; load the model through an engine on this platform`,
          );
        }
        // Graphs loaded from bytes have no directory of their own: ORT resolves external data here.
        const session: Record<string, string> = {
          model_external_initializers_file_folder_path: weightsFile.directory,
        };
        const prepack = options.prepackWeights ?? 'auto';
        const auto =
          weightsFile.byteLength <= PREPACK_AUTO_MAX_BYTES ||
          holdsQuantizedWeights(weightsFile.entries.keys());
        if (prepack === 'auto' ? !auto : !prepack) {
          session.disable_prepacking = '1';
        }
        ortOptions.extra = { session };
      }
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
