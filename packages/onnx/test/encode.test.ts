import { Tensor } from '@shortv/tensor';
import { describe, expect, it } from 'vitest';
import {
  AttributeType,
  decodeModel,
  encodeModel,
  float,
  GraphBuilder,
  MS_DOMAIN,
  TensorDataType,
} from '../src/index.ts';

function sampleModel() {
  const g = new GraphBuilder('sample');
  const x = g.input('x', 'float16', ['batch', 'seq', 4]);
  const ids = g.input('ids', 'int64', ['batch', 'seq']);
  g.initializer('w', new Tensor('float16', Uint16Array.from([0x3c00, 0x4000, 0xc000, 0x0000]), [2, 2]));
  g.initializer('mask', new Tensor('bool', Uint8Array.from([1, 0, 1]), [3]));
  g.initializer('big', new Tensor('int64', BigInt64Array.from([-(2n ** 40n), 7n]), [2]));
  const cast = g.op.Cast(x, { to: 'float32' });
  const t = g.op.Transpose(cast, { perm: [0, 2, 1] });
  const filled = g.op.ConstantOfShape(g.op.Shape(ids), {
    value: new Tensor('float32', Float32Array.of(0.5), [1]),
  });
  g.node(
    'Custom',
    [t, '', filled],
    2,
    { alpha: float(2), names: ['a', 'b'], ratio: 0.25, mode: 'fast' },
    {
      domain: MS_DOMAIN,
    },
  );
  g.output('out', 'float32', ['batch', 4, 'seq'], { from: t });
  return g.toModel({
    producerName: 'test',
    producerVersion: '1.2.3',
    metadata: { source: 'unit' },
    check: false,
  });
}

describe('encodeModel / decodeModel', () => {
  it('round-trips model fields, attributes, shapes and initializer bytes', () => {
    const model = sampleModel();
    const decoded = decodeModel(encodeModel(model).bytes);

    expect(decoded.irVersion).toBe(10);
    expect(decoded.producerName).toBe('test');
    expect(decoded.producerVersion).toBe('1.2.3');
    expect(decoded.metadataProps).toEqual([{ key: 'source', value: 'unit' }]);
    expect(decoded.opsetImport).toEqual([
      { domain: '', version: 21 },
      { domain: MS_DOMAIN, version: 1 },
    ]);
    const graph = decoded.graph!;
    expect(graph.name).toBe('sample');
    expect(graph.input![0]).toEqual({
      name: 'x',
      type: {
        tensorType: {
          elemType: TensorDataType.FLOAT16,
          shape: { dim: [{ dimParam: 'batch' }, { dimParam: 'seq' }, { dimValue: 4 }] },
        },
      },
    });
    expect(graph.node!.map((n) => n.opType)).toEqual([
      'Cast',
      'Transpose',
      'Shape',
      'ConstantOfShape',
      'Custom',
      'Identity',
    ]);
    const [cast, transpose, , fill, custom] = graph.node!;
    expect(cast!.attribute).toEqual([{ name: 'to', type: AttributeType.INT, i: TensorDataType.FLOAT }]);
    expect(transpose!.attribute).toEqual([{ name: 'perm', type: AttributeType.INTS, ints: [0, 2, 1] }]);
    const value = fill!.attribute![0]!.t!;
    expect(value.dataType).toBe(TensorDataType.FLOAT);
    expect(new Float32Array(value.rawData!.slice().buffer)).toEqual(Float32Array.of(0.5));
    expect(custom!.domain).toBe(MS_DOMAIN);
    expect(custom!.input).toEqual(['/Transpose_output_0', '', '/ConstantOfShape_output_0']);
    const attrs = Object.fromEntries(custom!.attribute!.map((a) => [a.name, a]));
    expect(attrs.alpha).toEqual({ name: 'alpha', type: AttributeType.FLOAT, f: 2 });
    expect(attrs.ratio).toEqual({ name: 'ratio', type: AttributeType.FLOAT, f: 0.25 });
    expect(new TextDecoder().decode(attrs.mode!.s)).toBe('fast');
    expect(attrs.names!.strings!.map((s: Uint8Array) => new TextDecoder().decode(s))).toEqual(['a', 'b']);

    const inits = Object.fromEntries(graph.initializer!.map((t) => [t.name, t]));
    expect(inits.w!.rawData!.constructor).toBe(Uint8Array);
    expect(inits.w!.dims).toEqual([2, 2]);
    expect(inits.w!.dataType).toBe(TensorDataType.FLOAT16);
    expect(Array.from(new Uint16Array(inits.w!.rawData!.slice().buffer))).toEqual([
      0x3c00, 0x4000, 0xc000, 0,
    ]);
    expect(Array.from(inits.mask!.rawData!)).toEqual([1, 0, 1]);
    expect(Array.from(new BigInt64Array(inits.big!.rawData!.slice().buffer))).toEqual([-(2n ** 40n), 7n]);
  });

  it('encodes the decoded model to the same bytes', () => {
    const first = encodeModel(sampleModel()).bytes;
    const second = encodeModel(decodeModel(first)).bytes;
    expect(Buffer.from(second).equals(Buffer.from(first))).toBe(true);
  });

  it('refuses bytes that are not a model with E_ONNX_DECODE', () => {
    expect(() => decodeModel(Uint8Array.from([0x0a, 0xff, 0xff, 0xff]))).toThrow(
      expect.objectContaining({ code: 'E_ONNX_DECODE' }),
    );
  });
});
