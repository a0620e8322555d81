import { describe, expect, it } from 'vitest';
import { gatherRows, scatterRows, Tensor } from '../src/index.ts';

// [B=2, S=3, D=2] with value = 100 * b + 10 * s + d, so every element names its position.
function positions(): Tensor<'float32'> {
  const data = new Float32Array(12);
  for (let b = 0; b < 2; b++)
    for (let s = 0; s < 3; s++) for (let d = 0; d < 2; d++) data[b * 6 + s * 2 + d] = 100 * b + 10 * s + d;
  return new Tensor('float32', data, [2, 3, 2]);
}

describe('gatherRows', () => {
  it('picks sequence rows in the given order for every batch item', () => {
    const out = gatherRows(positions(), [2, 0, 2]);
    expect(out.dims).toEqual([2, 3, 2]);
    expect(Array.from(out.data)).toEqual([20, 21, 0, 1, 20, 21, 120, 121, 100, 101, 120, 121]);
  });

  it('works on [S, D] and on int64 data', () => {
    const t = new Tensor('int64', new BigInt64Array([1n, 2n, 3n, 4n, 5n, 6n]), [3, 2]);
    const out = gatherRows(t, [1]);
    expect(out.dims).toEqual([1, 2]);
    expect(Array.from(out.data)).toEqual([3n, 4n]);
  });

  it('refuses out-of-range indices and other ranks', () => {
    expect(() => gatherRows(positions(), [3])).toThrow(expect.objectContaining({ code: 'E_TENSOR_INDEX' }));
    expect(() => gatherRows(positions(), [-1])).toThrow(expect.objectContaining({ code: 'E_TENSOR_INDEX' }));
    expect(() => gatherRows(Tensor.zeros('float32', [4]), [0])).toThrow(
      expect.objectContaining({ code: 'E_TENSOR_SHAPE' }),
    );
  });
});

describe('scatterRows', () => {
  it('writes rows back in place and undoes a gather', () => {
    const source = positions();
    const picked = gatherRows(source, [2, 0]);
    const target = Tensor.zeros('float32', [2, 3, 2]);
    const result = scatterRows(target, [2, 0], picked);
    expect(result).toBe(target);
    expect(Array.from(target.data)).toEqual([0, 1, 0, 0, 20, 21, 100, 101, 0, 0, 120, 121]);
  });

  it('refuses duplicate indices, wrong row shapes and dtype mismatches', () => {
    const target = Tensor.zeros('float32', [3, 2]);
    const rows = Tensor.zeros('float32', [2, 2]);
    expect(() => scatterRows(target, [1, 1], rows)).toThrow(
      expect.objectContaining({ code: 'E_TENSOR_INDEX' }),
    );
    expect(() => scatterRows(target, [0], rows)).toThrow(expect.objectContaining({ code: 'E_TENSOR_SHAPE' }));
    expect(() => scatterRows(target, [0, 1], Tensor.zeros('float32', [2, 3]))).toThrow(
      expect.objectContaining({ code: 'E_TENSOR_SHAPE' }),
    );
    expect(() =>
      scatterRows(target, [0, 1], Tensor.zeros('int32', [2, 2]) as unknown as typeof rows),
    ).toThrow(expect.objectContaining({ code: 'E_TENSOR_DTYPE' }));
  });
});
