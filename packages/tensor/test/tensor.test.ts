import { describe, expect, it } from 'vitest';
import { ShortvError, Tensor } from '../src/index.ts';

describe('Tensor', () => {
  it('rejects data whose length disagrees with the shape', () => {
    expect(() => new Tensor('float32', new Float32Array(5), [2, 3])).toThrow(ShortvError);
  });

  it('views aligned bytes without copying', () => {
    const source = new Float32Array([1, 2, 3, 4]);
    const bytes = new Uint8Array(source.buffer);
    const t = Tensor.fromBytes('float32', bytes, [2, 2]);
    source[0] = 42;
    expect(t.data[0]).toBe(42);
    expect(t.dims).toEqual([2, 2]);
  });

  it('copies misaligned bytes so a view is still possible', () => {
    const raw = new Uint8Array(9);
    new DataView(raw.buffer).setFloat32(1, 1.5, true);
    new DataView(raw.buffer).setFloat32(5, -2, true);
    const t = Tensor.fromBytes('float32', raw.subarray(1), [2]);
    expect(Array.from(t.data)).toEqual([1.5, -2]);
  });
});
