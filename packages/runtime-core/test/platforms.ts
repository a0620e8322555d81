import type { RuntimePlatform } from '../src/index.ts';

/**
 * The backends the shared engine suite runs on: onnxruntime-node and onnxruntime-web's wasm build (in
 * Node). Each platform creates tensors of its own onnxruntime build, as the real platform packages do.
 */
export async function testPlatforms(): Promise<RuntimePlatform[]> {
  const node = await import('onnxruntime-node');
  const web = await import('onnxruntime-web');
  web.env.wasm.numThreads = 1;
  return [
    {
      name: 'onnxruntime-node',
      createSession: (bytes) => node.InferenceSession.create(bytes, { intraOpNumThreads: 1 }),
      createTensor: (type, data, dims) => new node.Tensor(type, data as never, [...dims]),
    },
    {
      name: 'onnxruntime-web-wasm',
      createSession: (bytes) => web.InferenceSession.create(bytes, { executionProviders: ['wasm'] }),
      createTensor: (type, data, dims) => new web.Tensor(type, data as never, [...dims]),
    },
  ];
}
