import { registerPlatform } from '@shortv/runtime-core';
import { nodePlatform } from './platform.ts';

export { nodeModelFolder } from '@shortv/models/node';
export type { CacheItem } from './cache-dir.ts';
export { clearCache, DEFAULT_CACHE_MAX_BYTES, evictToCap, listCacheItems } from './cache-dir.ts';
export { DiskGraphCache } from './graph-cache.ts';
export type { DecodedImage, DecodeImageOptions } from './image.ts';
export { DEFAULT_MAX_INPUT_PIXELS, DEFAULT_MAX_PIXELS, decodeImageBytes, decodeImageFile } from './image.ts';
export type { NodePlatformOptions } from './platform.ts';
export { nodePlatform, PREPACK_AUTO_MAX_MEMORY_SHARE } from './platform.ts';
export { DiskWeightsStore, NodeWeightsFile } from './weights-store.ts';

// Importing the package makes onnxruntime-node the default platform, as onnxruntime-node registers its backend.
registerPlatform(nodePlatform(), 10);
