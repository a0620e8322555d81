import { describe, expect, it } from 'vitest';
import { fromOrtTensor, Tensor, toOrtTensorData } from '../src/index.ts';

describe('ONNX Runtime interop', () => {
  it('shares the typed array both ways where dtypes line up', () => {
    const t = new Tensor('float32', new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    const ort = toOrtTensorData(t);
    expect(ort.type).toBe('float32');
    expect(ort.dims).toEqual([2, 3]);
    expect(ort.data).toBe(t.data);
    const back = fromOrtTensor(ort);
    expect(back.data).toBe(t.data);
    expect(back.dims).toEqual([2, 3]);
  });

  it('maps every ORT type to the same-named dtype without copying', () => {
    const cases = [
      { type: 'float16', data: new Uint16Array([0x3c00]) },
      { type: 'int64', data: new BigInt64Array([5n]) },
      { type: 'int32', data: new Int32Array([-7]) },
      { type: 'int8', data: new Int8Array([-1]) },
      { type: 'uint8', data: new Uint8Array([200]) },
      { type: 'bool', data: new Uint8Array([1]) },
    ];
    for (const c of cases) {
      const t = fromOrtTensor({ type: c.type, dims: [1], data: c.data });
      expect(t.dtype).toBe(c.type);
      expect(t.data).toBe(c.data);
      expect(toOrtTensorData(t).data).toBe(c.data);
    }
  });

  it('views any 16-bit float16 array (e.g. a Float16Array) as raw bits over the same buffer', () => {
    const raw = new Int16Array([0x3c00, 0x4000]);
    const t = fromOrtTensor({ type: 'float16', dims: [2], data: raw });
    expect(t.data).toBeInstanceOf(Uint16Array);
    expect(t.data.buffer).toBe(raw.buffer);
    expect(Array.from(t.data as Uint16Array)).toEqual([0x3c00, 0x4000]);
  });

  it('widens bfloat16 to float32 because ORT has no bfloat16', () => {
    const t = new Tensor('bfloat16', new Uint16Array([0x3f80, 0xc040]), [2]);
    const ort = toOrtTensorData(t);
    expect(ort.type).toBe('float32');
    expect(Array.from(ort.data as Float32Array)).toEqual([1, -3]);
  });

  it('refuses unsupported types, GPU-resident tensors and mismatched data', () => {
    expect(() => fromOrtTensor({ type: 'string', dims: [1], data: ['a'] })).toThrow(
      expect.objectContaining({ code: 'E_TENSOR_ORT_TYPE' }),
    );
    expect(() =>
      fromOrtTensor({ type: 'float32', dims: [1], data: undefined, location: 'gpu-buffer' }),
    ).toThrow(expect.objectContaining({ code: 'E_TENSOR_ORT_LOCATION' }));
    expect(() => fromOrtTensor({ type: 'float32', dims: [3], data: new Float32Array(2) })).toThrow(
      expect.objectContaining({ code: 'E_TENSOR_ORT_DATA' }),
    );
    expect(() => fromOrtTensor({ type: 'int32', dims: [1], data: new Float32Array(1) })).toThrow(
      expect.objectContaining({ code: 'E_TENSOR_ORT_DATA' }),
    );
  });
});
