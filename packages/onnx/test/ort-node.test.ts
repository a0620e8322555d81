import { Tensor } from '@shortv/tensor';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { encodeModel, GraphBuilder, type ModelProto } from '../src/index.ts';
import { matmul, maxAbsDiff, rmsNormRows, seededValues, softmaxRows } from './reference.ts';

async function run(
  model: ModelProto,
  feeds: Record<string, ort.Tensor>,
): Promise<ort.InferenceSession.ReturnType> {
  const session = await ort.InferenceSession.create(encodeModel(model).bytes);
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

describe('built graphs on onnxruntime-node', () => {
  it('computes softmax(x @ w + b) like the TypeScript reference', async () => {
    const [m, k, n] = [3, 4, 5];
    const w = seededValues(k * n, 1);
    const b = seededValues(n, 2);
    const x = seededValues(m * k, 3);
    const g = new GraphBuilder('linear_softmax');
    const input = g.input('x', 'float32', [m, k]);
    const y = g.scope('/head', () => {
      const h = g.op.MatMul(input, g.initializer('w', new Tensor('float32', w, [k, n])));
      return g.op.Softmax(g.op.Add(h, g.initializer('b', new Tensor('float32', b, [n]))), { axis: -1 });
    });
    g.output('probs', 'float32', [m, n], { from: y });

    const result = await run(g.toModel(), { x: new ort.Tensor('float32', x, [m, k]) });

    const logits = matmul(x, w, m, k, n).map((v, i) => v + b[i % n]!);
    const expected = softmaxRows(logits, m, n);
    expect(result.probs!.dims).toEqual([m, n]);
    expect(maxAbsDiff(result.probs!.data as Float32Array, expected)).toBeLessThan(1e-6);
  });

  it('gathers embedding rows by int64 ids', async () => {
    const [vocab, dim] = [6, 3];
    const table = seededValues(vocab * dim, 4);
    const g = new GraphBuilder('embed');
    const ids = g.input('input_ids', 'int64', ['batch', 'seq']);
    const rows = g.op.Gather(
      g.initializer('embed_tokens.weight', new Tensor('float32', table, [vocab, dim])),
      ids,
      {
        axis: 0,
      },
    );
    g.output('embeds', 'float32', ['batch', 'seq', dim], { from: rows });

    const idList = [5, 0, 2, 2];
    const result = await run(g.toModel(), {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(idList.map(BigInt)), [2, 2]),
    });

    const expected = idList.flatMap((id) => Array.from(table.subarray(id * dim, id * dim + dim)));
    expect(result.embeds!.dims).toEqual([2, 2, dim]);
    expect(Array.from(result.embeds!.data as Float32Array)).toEqual(expected);
  });

  it('accepts two different batch sizes for a symbolic dimension', async () => {
    const g = new GraphBuilder('symbolic');
    const x = g.input('x', 'float32', ['batch', 2]);
    const scaled = g.op.Mul(x, g.scalar('float32', 3));
    const sum = g.op.ReduceMean(scaled, g.int64s([1]), { keepdims: 0 });
    g.output('mean', 'float32', ['batch'], { from: sum });
    const session = await ort.InferenceSession.create(encodeModel(g.toModel()).bytes);

    for (const batch of [1, 4]) {
      const data = seededValues(batch * 2, 10 + batch);
      const out = await session.run({ x: new ort.Tensor('float32', data, [batch, 2]) });
      const expected = Array.from({ length: batch }, (_, r) => ((data[2 * r]! + data[2 * r + 1]!) * 3) / 2);
      expect(out.mean!.dims).toEqual([batch]);
      expect(maxAbsDiff(out.mean!.data as Float32Array, expected)).toBeLessThan(1e-6);
    }
    await session.release();
  });

  it('runs SimplifiedLayerNormalization like a TypeScript RMSNorm', async () => {
    const [rows, hidden, eps] = [3, 8, 1e-6];
    const weight = seededValues(hidden, 5).map((v) => 1 + v / 2);
    const x = seededValues(rows * hidden, 6).map((v) => v * 4);
    const g = new GraphBuilder('rmsnorm');
    const input = g.input('hidden_states', 'float32', ['seq', hidden]);
    const normed = g.scope('/model/norm', () =>
      g.op.SimplifiedLayerNormalization(
        input,
        g.initializer('norm.weight', new Tensor('float32', weight, [hidden])),
        {
          axis: -1,
          epsilon: eps,
        },
      ),
    );
    g.output('out', 'float32', ['seq', hidden], { from: normed });

    const result = await run(g.toModel(), { hidden_states: new ort.Tensor('float32', x, [rows, hidden]) });

    expect(maxAbsDiff(result.out!.data as Float32Array, rmsNormRows(x, weight, rows, eps))).toBeLessThan(
      1e-5,
    );
  });

  it('runs SkipSimplifiedLayerNormalization: the residual sum and its RMSNorm', async () => {
    const [rows, hidden, eps] = [2, 4, 1e-5];
    const weight = seededValues(hidden, 7).map((v) => 1 + v / 2);
    const a = seededValues(rows * hidden, 8);
    const b = seededValues(rows * hidden, 9);
    const g = new GraphBuilder('skip_rmsnorm');
    const x = g.input('x', 'float32', [1, rows, hidden]);
    const skip = g.input('skip', 'float32', [1, rows, hidden]);
    const gamma = g.initializer('gamma', new Tensor('float32', weight, [hidden]));
    const [normed, , , sum] = g.op.SkipSimplifiedLayerNormalization(
      x,
      skip,
      gamma,
      undefined,
      { epsilon: eps },
      {
        outputs: ['normed', null, null, 'residual'],
      },
    );
    g.output(normed!, 'float32', [1, rows, hidden]);
    g.output(sum!, 'float32', [1, rows, hidden]);

    const result = await run(g.toModel(), {
      x: new ort.Tensor('float32', a, [1, rows, hidden]),
      skip: new ort.Tensor('float32', b, [1, rows, hidden]),
    });

    const residual = a.map((v, i) => v + b[i]!);
    expect(maxAbsDiff(result.residual!.data as Float32Array, residual)).toBeLessThan(1e-6);
    expect(
      maxAbsDiff(result.normed!.data as Float32Array, rmsNormRows(residual, weight, rows, eps)),
    ).toBeLessThan(1e-5);
  });
});
