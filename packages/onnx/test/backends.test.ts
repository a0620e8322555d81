import { Tensor } from '@shortv/tensor';
import * as ortWeb from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { encodeModel, GraphBuilder } from '../src/index.ts';
import { runOnBackends } from '../src/testing.ts';
import { matmul, maxAbsDiff, rmsNormRows, seededValues, softmaxRows } from './reference.ts';

describe('onnxruntime-web wasm inside Node', () => {
  it('runs a built model through the package export with one thread', async () => {
    ortWeb.env.wasm.numThreads = 1;
    const g = new GraphBuilder('wasm_softmax');
    const x = g.input('x', 'float32', ['rows', 3]);
    const w = g.initializer('w', new Tensor('float32', Float32Array.of(1, -2, 0.5, 3, 2, -1), [3, 2]));
    g.output('y', 'float32', ['rows', 2], { from: g.op.Softmax(g.op.MatMul(x, w), { axis: -1 }) });
    const session = await ortWeb.InferenceSession.create(encodeModel(g.toModel()).bytes, {
      executionProviders: ['wasm'],
    });
    const data = Float32Array.of(1, 0, 2, -1, 1, 0.5);
    const out = await session.run({ x: new ortWeb.Tensor('float32', data, [2, 3]) });
    await session.release();

    const expected = softmaxRows(matmul(data, [1, -2, 0.5, 3, 2, -1], 2, 3, 2), 2, 2);
    expect(maxAbsDiff(out.y!.data as Float32Array, expected)).toBeLessThan(1e-6);
  });
});

describe('runOnBackends', () => {
  it('gets the same embedding + RMSNorm + residual result from onnxruntime-node and wasm', async () => {
    const [vocab, hidden, eps] = [10, 8, 1e-5];
    const table = seededValues(vocab * hidden, 31);
    const weight = seededValues(hidden, 32).map((v) => 1 + v / 4);
    const g = new GraphBuilder('embed_norm');
    const ids = g.input('input_ids', 'int64', ['batch', 'seq']);
    const embeds = g.op.Gather(g.initializer('embed', new Tensor('float32', table, [vocab, hidden])), ids);
    const gamma = g.initializer('gamma', new Tensor('float32', weight, [hidden]));
    const [normed, , , residual] = g.op.SkipSimplifiedLayerNormalization(embeds, embeds, gamma, undefined, {
      epsilon: eps,
    });
    const plain = g.op.SimplifiedLayerNormalization(embeds, gamma, { epsilon: eps });
    g.output('normed', 'float32', ['batch', 'seq', hidden], { from: normed! });
    g.output('residual', 'float32', ['batch', 'seq', hidden], { from: residual! });
    g.output('plain', 'float32', ['batch', 'seq', hidden], { from: plain });

    const idList = [3, 9, 0];
    const feeds = { input_ids: new Tensor('int64', BigInt64Array.from(idList.map(BigInt)), [1, 3]) };
    const results = await runOnBackends(g.toModel(), feeds);

    const rows = Float32Array.from(
      idList.flatMap((id) => Array.from(table.subarray(id * hidden, (id + 1) * hidden))),
    );
    const doubled = rows.map((v) => 2 * v);
    for (const backend of ['node', 'wasm'] as const) {
      const out = results[backend]!;
      expect(out.residual!.dims).toEqual([1, 3, hidden]);
      expect(maxAbsDiff(out.residual!.data as Float32Array, doubled)).toBeLessThan(1e-6);
      expect(maxAbsDiff(out.normed!.data as Float32Array, rmsNormRows(doubled, weight, 3, eps))).toBeLessThan(
        1e-5,
      );
      expect(maxAbsDiff(out.plain!.data as Float32Array, rmsNormRows(rows, weight, 3, eps))).toBeLessThan(
        1e-5,
      );
    }
  });

  it('runs a model with external data on both backends', async () => {
    const [k, n] = [64, 32];
    const w = seededValues(k * n, 41);
    const g = new GraphBuilder('ext');
    const x = g.input('x', 'float32', [1, k]);
    g.output('y', 'float32', [1, n], {
      from: g.op.MatMul(x, g.initializer('w', new Tensor('float32', w, [k, n]))),
    });
    const encoded = encodeModel(g.toModel(), { externalData: { location: 'ext.onnx.data' } });
    expect(encoded.externalData!.byteLength).toBe(k * n * 4);

    const input = seededValues(k, 42);
    const results = await runOnBackends(encoded, { x: new Tensor('float32', input, [1, k]) });

    const expected = matmul(input, w, 1, k, n);
    expect(maxAbsDiff(results.node!.y!.data as Float32Array, expected)).toBeLessThan(1e-5);
    expect(maxAbsDiff(results.wasm!.y!.data as Float32Array, expected)).toBeLessThan(1e-5);
  });
});
