import { totalmem } from 'node:os';
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
   * ORT's weight prepacking for sessions on a shared weights file. Prepacking gives each session its own
   * packed copy of the MatMul weights (read from the file once, at session creation) for MatMul speed;
   * without it every call repacks (fp32) or dequantizes (MatMulNBits) the weights it reads from the one
   * mapped copy. Measured on this project's machine: prefill ran 1.6x slower without it on the bundled
   * 13 MB model, 1.2x on a OneVision-0.5B-shaped fp32 model, 2.3x on a LLaVA-1.5-7B-shaped int4 model. An
   * engine holds one decoder session at a time (a plan switch releases the old one first), so one engine
   * holds about one copy either way; two engines of one model hold two packed copies but share the mapped
   * one. 'auto' (the default) prepacks weights files up to `PREPACK_AUTO_MAX_MEMORY_SHARE` of this
   * machine's memory, and shares larger ones mapped, which the OS can page.
   */
  prepackWeights?: boolean | 'auto';
}

/** Largest share of the machine's memory a weights file may take for `prepackWeights: 'auto'` to prepack it. */
export const PREPACK_AUTO_MAX_MEMORY_SHARE = 0.4;

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
      // ORT's memory pattern plans one block per input shape and allocates it afresh for each new shape;
      // prompts and decode steps change shape on every run, so it only added page faults: 100-150 ms of a
      // 1.7 s OneVision-shaped prefill, in the first layers' 23 MB attention buffers.
      const ortOptions: ort.InferenceSession.SessionOptions = {
        graphOptimizationLevel: 'all',
        enableMemPattern: false,
      };
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
        const auto = weightsFile.byteLength <= PREPACK_AUTO_MAX_MEMORY_SHARE * totalmem();
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
