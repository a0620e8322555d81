import type { RuntimePlatform } from '../platform.ts';

/**
 * The backends the shared engine suite runs on: onnxruntime-node and onnxruntime-web's wasm build (in
 * Node), one thread each (tests share the machine). Each platform creates tensors of its own
 * onnxruntime build, as the real platform packages do. Both are imported on call, so a package that
 * uses this helper lists onnxruntime-node and onnxruntime-web among its dev dependencies.
 */
export async function testPlatforms(): Promise<RuntimePlatform[]> {
  return [await nodeTestPlatform(), await wasmTestPlatform()];
}

export async function nodeTestPlatform(): Promise<RuntimePlatform> {
  const ort = await import('onnxruntime-node');
  return {
    name: 'onnxruntime-node',
    createSession: (bytes) =>
      ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 }),
    createTensor: (type, data, dims) => new ort.Tensor(type, data as never, [...dims]),
  };
}

export async function wasmTestPlatform(): Promise<RuntimePlatform> {
  const web = await import('onnxruntime-web');
  web.env.wasm.numThreads = 1;
  return {
    name: 'onnxruntime-web-wasm',
    createSession: (bytes) => web.InferenceSession.create(bytes, { executionProviders: ['wasm'] }),
    createTensor: (type, data, dims) => new web.Tensor(type, data as never, [...dims]),
  };
}
