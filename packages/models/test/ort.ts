import { encodeModel, type ModelProto } from '@shortv/onnx';
import { loadRuntime, type OrtBackend } from '@shortv/onnx/testing';
import { fromOrtTensor, Tensor, toOrtTensorData } from '@shortv/tensor';
import type { LlavaConfig } from '../src/index.ts';
import { pastKeyName, pastValueName } from '../src/index.ts';

export interface Session {
  run(feeds: Readonly<Record<string, Tensor>>): Promise<Record<string, Tensor>>;
  release(): Promise<void>;
}

/** One ORT session kept open across calls (prefill + decode steps reuse it). */
export async function openSession(model: ModelProto, backend: OrtBackend = 'node'): Promise<Session> {
  const ort = await loadRuntime(backend);
  const session = await ort.InferenceSession.create(encodeModel(model).bytes, {
    executionProviders: [backend === 'node' ? 'cpu' : 'wasm'],
    intraOpNumThreads: 1,
  });
  return {
    async run(feeds) {
      const ortFeeds: Record<string, never> = {};
      for (const [name, t] of Object.entries(feeds)) {
        const { type, data, dims } = toOrtTensorData(t);
        (ortFeeds as Record<string, unknown>)[name] = new ort.Tensor(type, data, dims);
      }
      const results = await session.run(ortFeeds);
      const out: Record<string, Tensor> = {};
      for (const [name, value] of Object.entries(results)) out[name] = fromOrtTensor(value);
      return out;
    },
    release: () => session.release(),
  };
}

export const int64 = (rows: readonly (readonly number[])[]): Tensor<'int64'> =>
  new Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0]?.length ?? 0]);

/** Empty caches (past length 0) for every layer, or for the listed layers. */
export function emptyPast(
  config: LlavaConfig,
  batch: number,
  layers?: readonly number[],
): Record<string, Tensor> {
  const t = config.text;
  const out: Record<string, Tensor> = {};
  for (const l of layers ?? Array.from({ length: t.numLayers }, (_, i) => i)) {
    out[pastKeyName(l)] = Tensor.zeros('float32', [batch, t.numKvHeads, 0, t.headDim]);
    out[pastValueName(l)] = Tensor.zeros('float32', [batch, t.numKvHeads, 0, t.headDim]);
  }
  return out;
}

/** present.{i}.* outputs renamed to the past_key_values.{i}.* inputs of the next call. */
export function presentsAsPast(config: LlavaConfig, out: Record<string, Tensor>): Record<string, Tensor> {
  const past: Record<string, Tensor> = {};
  for (let l = 0; l < config.text.numLayers; l++) {
    const key = out[`present.${l}.key`];
    const value = out[`present.${l}.value`];
    if (key && value) {
      past[pastKeyName(l)] = key;
      past[pastValueName(l)] = value;
    }
  }
  return past;
}
