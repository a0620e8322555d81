import { registerPlatform } from '@shortv/runtime-core';
import { webPlatform } from './platform.ts';

export type { ModelCache } from './cache.ts';
export { cacheStorageModelCache, memoryModelCache } from './cache.ts';
export { fileModelFolder } from './file-folder.ts';
export type { RgbaPixels } from './image.ts';
export { decodeImage, rgbaToRgb } from './image.ts';
export type { WebBackend, WebBackendInfo, WebPlatformOptions, WebRuntimePlatform } from './platform.ts';
export { webBackendInfo, webPlatform } from './platform.ts';
export type { FileProgress, UrlModelFolderOptions } from './url-folder.ts';
export { urlModelFolder } from './url-folder.ts';
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
  MessageEndpoint,
  ModelInfo,
  ModelSource,
  PlanInfo,
  WireError,
  WorkerRequest,
  WorkerResponse,
} from './worker/protocol.ts';

// Importing the package makes onnxruntime-web the default platform, as onnxruntime-web registers its backends.
registerPlatform(webPlatform(), 10);
