import { fromOrtTensor, ShortvError, type Tensor, toOrtTensorData } from '@shortv/tensor';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';
import { type EncodedModel, encodeModel } from './encode.ts';
import { concatChunks } from './external-data.ts';
import type { ModelProto } from './proto.ts';

/**
 * Test support: run one model on onnxruntime-node and on onnxruntime-web's wasm backend (inside Node) and get
 * the outputs back as `Tensor`s, so a test can hold both runtimes to the same reference values. Both
 * runtimes are loaded lazily; a package using this needs `onnxruntime-node` and/or `onnxruntime-web` installed.
 */
export type OrtBackend = 'node' | 'wasm';

export const ALL_BACKENDS: readonly OrtBackend[] = ['node', 'wasm'];

interface OrtModule {
  InferenceSession: {
    create(model: Uint8Array | string, options?: InferenceSession.SessionOptions): Promise<InferenceSession>;
  };
  Tensor: new (type: string, data: unknown, dims: readonly number[]) => OrtTensor;
}

let nodeRuntime: Promise<OrtModule> | undefined;
let wasmRuntime: Promise<OrtModule> | undefined;

/** Imports the runtime once. onnxruntime-web's `node` export condition picks its Node build, which loads
 * the .wasm file shipped in the package from disk; one thread keeps it off worker threads. */
export function loadRuntime(backend: OrtBackend): Promise<OrtModule> {
  if (backend === 'node') {
    nodeRuntime ??= import('onnxruntime-node') as unknown as Promise<OrtModule>;
    return nodeRuntime;
  }
  wasmRuntime ??= import('onnxruntime-web').then((ort) => {
    ort.env.wasm.numThreads = 1;
    return ort as unknown as OrtModule;
  });
  return wasmRuntime;
}

export interface RunModelOptions {
  /** Output names to fetch (default: all graph outputs). */
  outputs?: readonly string[];
}

function toEncoded(model: ModelProto | Uint8Array | EncodedModel): EncodedModel {
  if (model instanceof Uint8Array) return { bytes: model, externalData: null };
  if ('bytes' in model) return model;
  return encodeModel(model);
}

/** Runs a model (built, encoded, or encoded with external data) on one backend. */
export async function runModel(
  backend: OrtBackend,
  model: ModelProto | Uint8Array | EncodedModel,
  feeds: Readonly<Record<string, Tensor>>,
  options: RunModelOptions = {},
): Promise<Record<string, Tensor>> {
  const ort = await loadRuntime(backend);
  const encoded = toEncoded(model);
  const sessionOptions: InferenceSession.SessionOptions = {
    executionProviders: [backend === 'node' ? 'cpu' : 'wasm'],
  };
  let source: Uint8Array | string = encoded.bytes;
  let tempDir: string | undefined;
  if (encoded.externalData && backend === 'wasm') {
    const { location, chunks } = encoded.externalData;
    sessionOptions.externalData = [{ path: location, data: concatChunks(chunks) }];
  } else if (encoded.externalData) {
    // onnxruntime-node resolves external data only relative to a model file on disk.
    const [{ mkdtemp }, { tmpdir }, { join }, { writeModelFiles }] = await Promise.all([
      import('node:fs/promises'),
      import('node:os'),
      import('node:path'),
      import('./node.ts'),
    ]);
    tempDir = await mkdtemp(join(tmpdir(), 'shortv-onnx-'));
    source = await writeModelFiles(tempDir, 'model.onnx', encoded);
  }
  const session = await ort.InferenceSession.create(source, sessionOptions).finally(async () => {
    if (tempDir !== undefined) {
      const { rm } = await import('node:fs/promises');
      await rm(tempDir, { recursive: true, force: true });
    }
  });
  try {
    const ortFeeds: Record<string, OrtTensor> = {};
    for (const [name, tensor] of Object.entries(feeds)) {
      const { type, data, dims } = toOrtTensorData(tensor);
      ortFeeds[name] = new ort.Tensor(type, data, dims);
    }
    const results = options.outputs
      ? await session.run(ortFeeds, [...options.outputs])
      : await session.run(ortFeeds);
    const out: Record<string, Tensor> = {};
    for (const [name, value] of Object.entries(results)) out[name] = fromOrtTensor(value);
    return out;
  } catch (cause) {
    throw new ShortvError(
      'E_ONNX_RUN',
      `running the model on ${backend} failed: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  } finally {
    await session.release();
  }
}

/** Runs the same model with the same feeds on each backend; results keyed by backend. */
export async function runOnBackends(
  model: ModelProto | Uint8Array | EncodedModel,
  feeds: Readonly<Record<string, Tensor>>,
  options: RunModelOptions & { backends?: readonly OrtBackend[] } = {},
): Promise<Partial<Record<OrtBackend, Record<string, Tensor>>>> {
  const encoded = toEncoded(model);
  const results: Partial<Record<OrtBackend, Record<string, Tensor>>> = {};
  // Sequential on purpose: the two runtimes compete for the same cores.
  for (const backend of options.backends ?? ALL_BACKENDS) {
    results[backend] = await runModel(backend, encoded, feeds, options);
  }
  return results;
}
