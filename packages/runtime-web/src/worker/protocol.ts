import type { LcResult } from '@shortv/lc';
import type { DecoderDims, FreezePlan, ModelIdentity, PlanEstimate } from '@shortv/plan';
import type { GenerationStats } from '@shortv/runtime-core';
import type { RawImage } from '@shortv/tensor';
import type { WebBackend, WebBackendInfo } from '../platform.ts';
import type { FileProgress } from '../url-folder.ts';

/*
 * Messages between the page (EngineWorkerClient) and the engine worker (handleWorkerMessages). Every
 * request carries an id; the worker answers it with exactly one `result` or `error`, after any number
 * of `progress` / `token` / `calibrate-progress` events for that id. `abort` names the request to stop.
 */

/** Where the worker gets the model: a served folder, picked files, or files already in memory. */
export type ModelSource =
  | { baseUrl: string; cacheName?: string | null }
  | { files: File[] }
  | { folder: Record<string, Uint8Array | string> };

/** An image as the page passes it: decoded in the worker unless it is already RGB(A) pixels. */
export type ImageInput = Blob | ImageBitmap | RawImage;

export interface LoadOptions {
  backend?: WebBackend;
  numThreads?: number;
  wasmPaths?: string | Record<string, string>;
}

/** What the page needs about the loaded model to show it, build plans and estimate their FLOPs. */
export interface ModelInfo {
  architecture: 'llava';
  /** config.json's model_type (`llava`). */
  modelType: string;
  /** The decoder's model_type (`llama`, `qwen2`, `mistral`). */
  textModelType: string;
  numLayers: number;
  hiddenSize: number;
  fingerprint: string;
  /** Decoder rows each image becomes. */
  visualTokens: number;
  /** `checkPlanForModel(plan, identity)` in the page refuses exactly what the worker refuses. */
  identity: Required<ModelIdentity>;
  /** Decoder sizes for `prefillFlops(flopsModel, tokens, plan)`. */
  flopsModel: Required<DecoderDims>;
  /** Default answer length from generation_config.json, when it gives one. */
  maxNewTokens?: number;
  location: string;
  backend: WebBackendInfo;
  /** Seconds from the load request to a ready engine. */
  loadSeconds: number;
}

/** The plan the worker applies to `arm: 'plan'` runs. */
export interface PlanInfo {
  plan: FreezePlan;
  frozenLayers: number[];
  estimate: PlanEstimate | null;
}

export interface GenerateRequest {
  image: ImageInput;
  prompt: string;
  maxNewTokens?: number;
  /** `'dense'`: the plain model; `'plan'`: with the plan from `setPlan`. */
  arm: 'dense' | 'plan';
}

export interface GenerateResult {
  text: string;
  tokenIds: number[];
  arm: 'dense' | 'plan';
  stats: GenerationStats;
}

export interface CalibrationSample {
  image: Blob | ImageBitmap | RawImage;
  question: string;
  answer: string;
}

export interface CalibrateRequest {
  samples: CalibrationSample[];
  /** Name recorded in the plan's calibration provenance (default `custom`). */
  dataset?: string;
  /** Tool recorded in the provenance (default `@shortv/lc`); the CLI writes `shortv <version>`. */
  createdWith?: string;
  seed?: number;
  direction?: 'mod||orig' | 'orig||mod';
  aggregation?: 'first' | 'all';
}

/** `{ visual, text, samples, seconds, ... }`: the object `shortv calibrate` writes as lc.json (`serializeLc`). */
export type CalibrateResult = LcResult;

export type WorkerRequest =
  | { type: 'load'; id: number; source: ModelSource; options: LoadOptions }
  | { type: 'setPlan'; id: number; planJson: string | null }
  | { type: 'generate'; id: number; request: GenerateRequest }
  | { type: 'calibrate'; id: number; request: CalibrateRequest }
  | { type: 'abort'; id: number };

export interface WireError {
  code: string;
  message: string;
}

export type WorkerResponse =
  | { type: 'progress'; id: number; progress: FileProgress }
  | { type: 'token'; id: number; text: string }
  | { type: 'calibrate-progress'; id: number; done: number; total: number }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; error: WireError };

/** The messaging surface both ends use: a Worker, `self` inside one, or a MessagePort. */
export interface MessageEndpoint {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  removeEventListener?(type: 'message', listener: (event: MessageEvent) => void): void;
  start?(): void;
}
