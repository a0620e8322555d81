import { engineSuite } from '@shortv/runtime-core/testing/engine-suite';
import * as ort from 'onnxruntime-web';
import { expect, it } from 'vitest';
import { webBackendInfo, webPlatform } from '../src/index.ts';

// A file of its own: onnxruntime-web fixes its thread count when its wasm module starts, once per process.
const platform = webPlatform({ numThreads: 2 });
engineSuite('the web platform (wasm, 2 threads)', () => platform);

it('ran the suite on 2 wasm threads', () => {
  // Read after the suite has started the runtime, which lowers the setting where threads cannot run.
  expect(ort.env.wasm.numThreads).toBe(2);
  expect(webBackendInfo(platform)).toEqual({ backend: 'wasm', threads: 2 });
});
