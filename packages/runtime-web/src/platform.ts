import type { GraphCache, RuntimePlatform, SessionOptions } from '@shortv/runtime-core';
import { type DataTypeMap, type OrtTensorType, ShortvError } from '@shortv/tensor';
import * as ort from 'onnxruntime-web';

export type WebBackend = 'wasm' | 'webgpu';

export interface WebPlatformOptions {
  /** Execution provider to ask for (default `'wasm'`). `'webgpu'` falls back to wasm where it cannot run. */
  backend?: WebBackend;
  /**
   * wasm threads. Default: min(4, hardwareConcurrency) when the page is cross-origin isolated
   * (SharedArrayBuffer is available), else 1. ONNX Runtime reads it once, when its first session opens.
   */
  numThreads?: number;
  /** Where onnxruntime-web finds its .wasm/.mjs files (`ort.env.wasm.wasmPaths`), when not next to the bundle. */
  wasmPaths?: string | Record<string, string>;
  /** Byte store for the graphs the engine builds; none by default. */
  graphCache?: GraphCache;
}

/** What a web platform runs on: the backend in use, wasm threads, and why WebGPU was left, if it was. */
export interface WebBackendInfo {
  backend: WebBackend;
  threads: number;
  fallbackReason?: string;
}

/** A RuntimePlatform of onnxruntime-web that can say which backend it ended up on. */
export interface WebRuntimePlatform extends RuntimePlatform {
  readonly name: 'web';
  backendInfo(): WebBackendInfo;
}

function defaultThreads(): number {
  const g = globalThis as { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } };
  if (g.crossOriginIsolated !== true) return 1;
  return Math.max(1, Math.min(4, g.navigator?.hardwareConcurrency ?? 1));
}

function checkThreads(value: number | undefined): number {
  if (value === undefined) return defaultThreads();
  if (!Number.isInteger(value) || value < 1) {
    throw new ShortvError('E_RUNTIME_OPTION', `numThreads must be a whole number >= 1, got ${value}`);
  }
  return value;
}

function hasWebGpu(): boolean {
  return (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu !== undefined;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The onnxruntime-web platform. wasm sessions run on `numThreads` threads (more than one needs a
 * cross-origin isolated page). `backend: 'webgpu'` opens sessions on WebGPU when `navigator.gpu` exists;
 * when it does not, or a WebGPU session fails to open, this platform and every later session use wasm,
 * and `backendInfo().fallbackReason` says why.
 */
export function webPlatform(options: WebPlatformOptions = {}): WebRuntimePlatform {
  const requested = options.backend ?? 'wasm';
  if (requested !== 'wasm' && requested !== 'webgpu') {
    throw new ShortvError(
      'E_RUNTIME_OPTION',
      `backend must be 'wasm' or 'webgpu', got '${String(requested)}'`,
    );
  }
  const threads = checkThreads(options.numThreads);
  let backend: WebBackend = requested;
  let fallbackReason: string | undefined;
  if (requested === 'webgpu' && !hasWebGpu()) {
    backend = 'wasm';
    fallbackReason = 'navigator.gpu is absent: this browser (or its flags) offers no WebGPU';
  }

  const configure = () => {
    // Global to onnxruntime-web and read when its wasm module starts: set before every session open.
    ort.env.wasm.numThreads = threads;
    if (options.wasmPaths !== undefined) ort.env.wasm.wasmPaths = options.wasmPaths;
  };

  const open = async (model: Uint8Array, provider: WebBackend, sessionOptions: SessionOptions) => {
    const ortOptions: ort.InferenceSession.SessionOptions = {
      executionProviders: [provider],
      graphOptimizationLevel: 'all',
    };
    if (sessionOptions.intraOpThreads) ortOptions.intraOpNumThreads = sessionOptions.intraOpThreads;
    return ort.InferenceSession.create(model, ortOptions);
  };

  return {
    name: 'web',
    ...(options.graphCache ? { graphCache: options.graphCache } : {}),

    async createSession(model: Uint8Array, sessionOptions: SessionOptions = {}) {
      configure();
      if (backend === 'webgpu') {
        try {
          return await open(model, 'webgpu', sessionOptions);
        } catch (error) {
          backend = 'wasm';
          fallbackReason = `a WebGPU session failed to open (${reasonOf(error)}); running on wasm`;
        }
      }
      try {
        return await open(model, 'wasm', sessionOptions);
      } catch (error) {
        throw new ShortvError(
          'E_RUNTIME_SESSION',
          `onnxruntime-web could not load a ${model.byteLength}-byte model on wasm: ${reasonOf(error)}. ` +
            'Check that the onnxruntime-web .wasm files are served (see wasmPaths), then reload.',
          { cause: error },
        );
      }
    },

    createTensor<T extends OrtTensorType>(type: T, data: DataTypeMap[T], dims: readonly number[]) {
      return new ort.Tensor(type, data as never, [...dims]);
    },

    backendInfo(): WebBackendInfo {
      // onnxruntime-web lowers numThreads to 1 when it starts without SharedArrayBuffer.
      const effective = ort.env.wasm.numThreads;
      return {
        backend,
        threads: typeof effective === 'number' && effective >= 1 ? Math.min(effective, threads) : threads,
        ...(fallbackReason ? { fallbackReason } : {}),
      };
    },
  };
}

/** The backend a platform made by `webPlatform` runs on. */
export function webBackendInfo(platform: RuntimePlatform): WebBackendInfo {
  const info = (platform as Partial<WebRuntimePlatform>).backendInfo;
  if (platform.name !== 'web' || typeof info !== 'function') {
    throw new ShortvError(
      'E_RUNTIME_OPTION',
      `platform '${platform.name}' is not a web platform; pass one made by webPlatform()`,
    );
  }
  return info.call(platform);
}
