import { Tensor } from '@shortv/tensor';
import { describe, expect, it } from 'vitest';
import {
  assertValidModel,
  checkModel,
  decodeModel,
  encodeModel,
  GraphBuilder,
  type ModelProto,
  type ProblemKind,
  valueInfo,
} from '../src/index.ts';

const kinds = (model: ModelProto): ProblemKind[] => checkModel(model).map((p) => p.kind);

/** A small decoder block using the ops the LLaVA graphs use, as a no-false-positives baseline. */
function validBlock(): ModelProto {
  const g = new GraphBuilder('block');
  const hidden = 8;
  const x = g.input('inputs_embeds', 'float16', ['batch', 'seq', hidden]);
  const ids = g.input('position_ids', 'int64', ['batch', 'seq']);
  const seqlens = g.input('seqlens_k', 'int32', ['batch']);
  const total = g.input('total_sequence_length', 'int32', []);
  const pastKey = g.input('past_key_values.0.key', 'float16', ['batch', 1, 'past', 4]);
  const pastValue = g.input('past_key_values.0.value', 'float16', ['batch', 1, 'past', 4]);
  const w = g.initializer('w', Tensor.zeros('float16', [hidden, hidden]));
  const norm = g.initializer('norm', Tensor.zeros('float16', [hidden]));
  const cos = g.initializer('cos', Tensor.zeros('float16', [16, 2]));
  const [out] = g.scope('/model/layers.0', () => {
    const normed = g.op.SimplifiedLayerNormalization(x, norm, { epsilon: 1e-6 });
    const q = g.op.MatMul(normed, w);
    const rotated = g.op.RotaryEmbedding(q, ids, cos, cos, { num_heads: 2 });
    const [attn, presentKey, presentValue] = g.op.GroupQueryAttention(
      { query: rotated, key: q, value: q, pastKey, pastValue, seqlensK: seqlens, totalSequenceLength: total },
      { num_heads: 2, kv_num_heads: 1 },
    );
    g.output('present.0.key', 'float16', null, { from: presentKey! });
    g.output('present.0.value', 'float16', null, { from: presentValue! });
    const [sumNormed, , , residual] = g.op.SkipSimplifiedLayerNormalization(attn!, x, norm, undefined, {
      epsilon: 1e-6,
    });
    const mask = g.op.Less(g.op.Cast(ids, { to: 'float32' }), g.scalar('float32', 2));
    const zero = g.op.ConstantOfShape(g.op.Shape(residual!), {
      value: new Tensor('float16', Uint16Array.of(0), [1]),
    });
    const gated = g.op.Where(g.op.Unsqueeze(mask, g.int64s([-1])), sumNormed!, zero);
    const [a, b] = g.op.Split(gated, g.int64s([4, 4]), { axis: -1 }, { outputs: 2 });
    const row = g.op.Gather(g.op.Concat([b!, a!], { axis: -1 }), g.scalar('int32', 0), { axis: 1 });
    return [g.op.Softmax(g.op.Reshape(row, g.int64s([0, -1])), { axis: -1 })];
  });
  g.output('logits', 'float16', ['batch', hidden], { from: out! });
  return g.toModel({ check: false });
}

describe('checkModel', () => {
  it('finds no problem in a valid block, built or decoded from bytes', () => {
    const model = validBlock();
    expect(checkModel(model)).toEqual([]);
    expect(checkModel(decodeModel(encodeModel(model).bytes))).toEqual([]);
  });

  it('reports a node input nobody produces, naming node and value', () => {
    const g = new GraphBuilder('g');
    g.scope('/m', () => g.op.Relu('missing'));
    const problems = checkModel(g.toModel({ check: false }));
    expect(problems).toEqual([
      expect.objectContaining({ kind: 'dangling-input', node: '/m/Relu', value: 'missing' }),
    ]);
  });

  it('reports a node that consumes a value before its producer', () => {
    const g = new GraphBuilder('g');
    const x = g.input('x', 'float32', [1]);
    const y = g.op.Relu('later');
    g.node('Identity', [x], ['later']);
    g.output('y', 'float32', [1], { from: y });
    expect(kinds(g.toModel({ check: false }))).toEqual(['unsorted-nodes']);
  });

  it('reports a value produced twice', () => {
    const g = new GraphBuilder('g');
    const x = g.input('x', 'float32', [1]);
    g.op.Relu(x, { outputs: ['y'] });
    g.op.Neg(x, { outputs: [true] });
    g.output('y', 'float32', [1]);
    const model = g.toModel({ check: false });
    model.graph!.node![1]!.output = ['y'];
    expect(checkModel(model)).toEqual([
      expect.objectContaining({ kind: 'duplicate-producer', node: '/Neg', value: 'y' }),
    ]);
  });

  it('reports a graph output nobody produces', () => {
    const g = new GraphBuilder('g');
    g.input('x', 'float32', [1]);
    g.output('ghost', 'float32', [1]);
    expect(checkModel(g.toModel({ check: false }))).toEqual([
      expect.objectContaining({ kind: 'missing-output', value: 'ghost' }),
    ]);
  });

  it('reports an initializer that disagrees with the graph input it backs', () => {
    const g = new GraphBuilder('g');
    g.input('w', 'float32', ['n', 2]);
    const model = g.toModel({ check: false });
    model.graph!.initializer = [
      { name: 'w', dims: [3, 3], dataType: 1, rawData: new Uint8Array(36) }, // shape [3,3] vs [n,2]
    ];
    expect(kinds(model)).toEqual(['initializer-mismatch']);
    model.graph!.initializer = [{ name: 'w', dims: [5, 2], dataType: 10, rawData: new Uint8Array(20) }];
    expect(kinds(model)).toEqual(['initializer-mismatch']); // float16 vs float32
    model.graph!.initializer = [{ name: 'w', dims: [5, 2], dataType: 1, rawData: new Uint8Array(40) }];
    expect(kinds(model)).toEqual([]);
  });

  it('reports an initializer whose bytes do not match its shape', () => {
    const g = new GraphBuilder('g');
    g.output(g.initializer('w', Tensor.zeros('float32', [2, 2])), 'float32', [2, 2]);
    const model = g.toModel({ check: false });
    model.graph!.initializer![0]!.rawData = new Uint8Array(12);
    expect(checkModel(model)).toEqual([
      expect.objectContaining({ kind: 'initializer-mismatch', value: 'w' }),
    ]);
  });

  it('reports binary elementwise inputs of different dtypes, found through a Cast', () => {
    const g = new GraphBuilder('g');
    const x = g.input('x', 'float32', [2]);
    const half = g.op.Cast(x, { to: 'float16' });
    const sum = g.scope('/mlp', () => g.op.Add(half, x));
    g.output('y', 'float16', [2], { from: sum });
    const problems = checkModel(g.toModel({ check: false }));
    expect(problems).toEqual([expect.objectContaining({ kind: 'dtype-mismatch', node: '/mlp/Add' })]);
    expect(problems[0]!.message).toContain('float16');
  });

  it('reports MatMul inputs of different float dtypes', () => {
    const g = new GraphBuilder('g');
    const x = g.input('x', 'float16', [1, 4]);
    const y = g.op.MatMul(x, g.initializer('w', Tensor.zeros('float32', [4, 4])));
    g.output('y', 'float16', [1, 4], { from: y });
    expect(checkModel(g.toModel({ check: false }))).toEqual([
      expect.objectContaining({ kind: 'dtype-mismatch', node: '/MatMul' }),
    ]);
  });

  it('reports Gather indices that are not int32/int64', () => {
    const g = new GraphBuilder('g');
    const table = g.initializer('table', Tensor.zeros('float32', [4, 2]));
    const rows = g.op.Gather(table, g.input('ids', 'float32', [3]));
    g.output('rows', 'float32', [3, 2], { from: rows });
    const problems = checkModel(g.toModel({ check: false }));
    expect(problems).toEqual([expect.objectContaining({ kind: 'dtype-mismatch', node: '/Gather' })]);
    expect(problems[0]!.message).toContain('indices');
  });

  it('reports a graph output declared with another dtype than computed', () => {
    const g = new GraphBuilder('g');
    const x = g.input('x', 'int64', [2]);
    g.output('shape', 'int32', [1], { from: g.op.Shape(x) });
    expect(checkModel(g.toModel({ check: false }))).toEqual([
      expect.objectContaining({ kind: 'dtype-mismatch', value: 'shape' }),
    ]);
  });

  it('reports a domain without an opset import, and a model without the default domain', () => {
    const g = new GraphBuilder('g');
    const x = g.input('x', 'float32', [1]);
    const [y] = g.scope('/ext', () => g.node('Fancy', [x], 1, undefined, { domain: 'com.example' }));
    g.output('y', 'float32', [1], { from: y! });
    const model = g.toModel({ check: false });
    expect(checkModel(model)).toEqual([
      expect.objectContaining({ kind: 'unknown-domain', node: '/ext/Fancy' }),
    ]);
    expect(checkModel(g.toModel({ check: false, opsetImports: { 'com.example': 1 } }))).toEqual([]);
    expect(kinds({ ...model, opsetImport: [{ domain: 'com.example', version: 1 }] })).toEqual([
      'missing-opset',
    ]);
  });
});

describe('assertValidModel', () => {
  it('throws E_ONNX_INVALID listing every problem with node names', () => {
    const g = new GraphBuilder('broken');
    const x = g.input('x', 'float32', [2]);
    g.scope('/a', () => g.op.Add(x, g.input('h', 'float16', [2])));
    g.scope('/b', () => g.op.Relu('nope'));
    const model = g.toModel({ check: false });
    let error: unknown;
    try {
      assertValidModel(model);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'E_ONNX_INVALID' });
    expect((error as Error).message).toContain("'/a/Add'");
    expect((error as Error).message).toContain("'/b/Relu'");
    expect((error as { problems: unknown[] }).problems).toHaveLength(2);
  });

  it('runs inside toModel by default', () => {
    const g = new GraphBuilder('g');
    g.output('never', 'float32', [1]);
    expect(() => g.toModel()).toThrow(expect.objectContaining({ code: 'E_ONNX_INVALID' }));
  });

  it('accepts a graph input checked through valueInfo with symbolic dims', () => {
    const info = valueInfo('x', 'float32', ['batch', 3]);
    const model: ModelProto = {
      irVersion: 10,
      opsetImport: [{ domain: '', version: 21 }],
      graph: { name: 'id', input: [info], output: [info], node: [] },
    };
    expect(() => assertValidModel(model)).not.toThrow();
  });
});
