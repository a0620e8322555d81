// The page side of the engine worker alone: no onnxruntime-web, so a page that runs the engine in a
// worker does not load the runtime on its main thread too.
export type { WebBackend, WebBackendInfo } from './platform.ts';
export type { FileProgress } from './url-folder.ts';
export type { WorkerLike } from './worker/client.ts';
export { EngineWorkerClient } from './worker/client.ts';
export type {
  CalibrateRequest,
  CalibrateResult,
  CalibrationSample,
  GenerateRequest,
  GenerateResult,
  ImageInput,
  LoadOptions,
  ModelInfo,
  ModelSource,
  PlanInfo,
  WireError,
} from './worker/protocol.ts';
