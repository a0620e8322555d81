import { Tensor } from '@shortv/tensor';
import { describe, expect, it } from 'vitest';
import { AttributeType, GraphBuilder, MS_DOMAIN } from '../src/index.ts';

describe('GraphBuilder naming', () => {
  it('names nodes by module path and keeps node and output names unique', () => {
    const g = new GraphBuilder('decoder');
    const x = g.input('x', 'float32', ['batch', 'seq', 4]);
    const w = g.initializer('q_proj.weight', Tensor.zeros('float32', [4, 4]));
    const [q1, q2] = g.scope('/model/layers.3/self_attn', () => [
      g.scope('q_proj', () => g.op.MatMul(x, w)),
      g.scope('q_proj', () => g.op.MatMul(x, w)),
    ]);
    const top = g.op.Add(q1!, q2!);
    g.output('y', 'float32', null, { from: top });
    const nodes = g.toModel().graph!.node!;

    expect(nodes.map((n) => n.name)).toEqual([
      '/model/layers.3/self_attn/q_proj/MatMul',
      '/model/layers.3/self_attn/q_proj/MatMul_1',
      '/Add',
      '/Identity_y',
    ]);
    expect(q1).toBe('/model/layers.3/self_attn/q_proj/MatMul_output_0');
    expect(q2).toBe('/model/layers.3/self_attn/q_proj/MatMul_1_output_0');
    expect(g.currentScope).toBe('');
  });

  it('restores the scope when the callback throws', () => {
    const g = new GraphBuilder('g');
    expect(() =>
      g.scope('/a', () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(g.currentScope).toBe('');
  });

  it('refuses a value name used twice with E_ONNX_DUPLICATE_NAME', () => {
    const g = new GraphBuilder('g');
    g.input('x', 'float32', [1]);
    expect(() => g.initializer('x', Tensor.zeros('float32', [1]))).toThrow(
      expect.objectContaining({ code: 'E_ONNX_DUPLICATE_NAME' }),
    );
    expect(() => g.node('Relu', ['x'], ['x'])).toThrow(
      expect.objectContaining({ code: 'E_ONNX_DUPLICATE_NAME' }),
    );
  });

  it('shares equal small constants and keeps different ones apart', () => {
    const g = new GraphBuilder('g');
    const a = g.scope('/one', () => g.int64s([0, 0, -1]));
    const b = g.scope('/two', () => g.int64s([0, 0, -1]));
    const c = g.int64s([0, -1]);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(a).toBe('/one/Constant_output_0');
  });
});

describe('GraphBuilder attributes and outputs', () => {
  it('stores schema-float attributes as FLOAT even when integral', () => {
    const g = new GraphBuilder('g');
    const x = g.input('x', 'float32', [2, 4]);
    const s = g.initializer('s', Tensor.zeros('float32', [4]));
    g.op.LayerNormalization(x, s, undefined, { epsilon: 1, axis: -1 });
    const attrs = g.toModel({ check: false }).graph!.node![0]!.attribute!;
    expect(attrs).toEqual([
      { name: 'epsilon', type: AttributeType.FLOAT, f: 1 },
      { name: 'axis', type: AttributeType.INT, i: -1 },
    ]);
  });

  it('drops undefined attributes and trailing empty inputs', () => {
    const g = new GraphBuilder('g');
    const x = g.input('x', 'float32', [4]);
    g.op.Slice(x, g.int64s([0]), g.int64s([2]), undefined, undefined);
    g.op.Softmax(x, { axis: undefined });
    const [slice, softmax] = g.toModel({ check: false }).graph!.node!;
    expect(slice!.input).toHaveLength(3);
    expect(softmax!.attribute).toBeUndefined();
  });

  it('gives Split as many outputs as num_outputs and refuses a Split without a count', () => {
    const g = new GraphBuilder('g');
    const x = g.input('x', 'float32', [6]);
    expect(g.op.Split(x, undefined, { axis: 0, num_outputs: 3 })).toHaveLength(3);
    expect(() => g.op.Split(x)).toThrow(expect.objectContaining({ code: 'E_ONNX_BUILD' }));
  });

  it('puts contrib ops in com.microsoft and imports that domain', () => {
    const g = new GraphBuilder('g');
    const q = g.input('q', 'float32', [1, 'seq', 8]);
    const [out] = g.op.MultiHeadAttention(
      { query: q, key: q, value: q },
      { num_heads: 2, scale: 1 },
      { outputs: 1 },
    );
    g.output('out', 'float32', null, { from: out! });
    const model = g.toModel();
    const node = model.graph!.node![0]!;
    expect(node.domain).toBe(MS_DOMAIN);
    expect(node.attribute).toContainEqual({ name: 'scale', type: AttributeType.FLOAT, f: 1 });
    expect(model.opsetImport).toContainEqual({ domain: MS_DOMAIN, version: 1 });
  });
});

describe('GraphBuilder constants', () => {
  it('stores scalars as rank-0 tensors with the dtype bits', () => {
    const g = new GraphBuilder('g');
    const names = [
      g.scalar('float16', 1),
      g.scalar('bfloat16', -2),
      g.scalar('int64', 7),
      g.scalar('bool', true),
    ];
    const inits = g.toModel({ check: false }).graph!.initializer!;
    expect(inits.map((t) => t.name)).toEqual(names);
    expect(inits.map((t) => t.dims)).toEqual([[], [], [], []]);
    expect(Array.from(new Uint16Array(inits[0]!.rawData!.slice().buffer))).toEqual([0x3c00]);
    expect(Array.from(new Uint16Array(inits[1]!.rawData!.slice().buffer))).toEqual([0xc000]);
    expect(Array.from(new BigInt64Array(inits[2]!.rawData!.slice().buffer))).toEqual([7n]);
    expect(Array.from(inits[3]!.rawData!)).toEqual([1]);
  });
});
