import { describe, expect, it } from 'vitest';
import {
  bfloat16BitsToNumber,
  bfloat16ToFloat32,
  castTensor,
  float16BitsToNumber,
  float16ToFloat32,
  float32ToBfloat16,
  float32ToFloat16,
  numberToBfloat16Bits,
  numberToFloat16Bits,
  Tensor,
} from '../src/index.ts';

const toHalf = (values: number[]) => Array.from(float32ToFloat16(new Float32Array(values)));
const toBf16 = (values: number[]) => Array.from(float32ToBfloat16(new Float32Array(values)));
const f32FromBits = (bits: number) => new Float32Array(new Uint32Array([bits]).buffer)[0]!;
const isHalfNaN = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;

describe('float32 -> float16 (round to nearest, ties to even)', () => {
  it('encodes exact values', () => {
    expect(toHalf([0, 1, -2, 0.5, 65504, -65504])).toEqual([0x0000, 0x3c00, 0xc000, 0x3800, 0x7bff, 0xfbff]);
  });

  it('keeps the sign of zero', () => {
    expect(toHalf([-0])).toEqual([0x8000]);
  });

  it('overflows to Inf from 65520 (the midpoint above 65504) and keeps ±Inf', () => {
    expect(toHalf([65519, 65520, 1e6, -65520, Infinity, -Infinity])).toEqual([
      0x7bff, 0x7c00, 0x7c00, 0xfc00, 0x7c00, 0xfc00,
    ]);
  });

  it('turns NaN into a NaN, including NaNs whose payload is only in the low bits', () => {
    const [a, b] = Array.from(float32ToFloat16(new Float32Array([Number.NaN, f32FromBits(0x7f800001)])));
    expect(isHalfNaN(a!)).toBe(true);
    expect(isHalfNaN(b!)).toBe(true);
  });

  it('rounds subnormals: 2^-24 is the smallest, 2^-25 ties to 0, 3*2^-25 ties to 2 units', () => {
    expect(toHalf([2 ** -24, 2 ** -25, 1.5 * 2 ** -25, 3 * 2 ** -25, 5 * 2 ** -25, 1e-8])).toEqual([
      0x0001, 0x0000, 0x0001, 0x0002, 0x0002, 0x0000,
    ]);
    expect(toHalf([-(2 ** -25), -(2 ** -24)])).toEqual([0x8000, 0x8001]);
  });

  it('rounds across the subnormal/normal boundary', () => {
    // 1023 units is the largest subnormal; 1023.5 units ties to the even 1024 = smallest normal.
    expect(toHalf([1023 * 2 ** -24, 1023.5 * 2 ** -24, 2 ** -14])).toEqual([0x03ff, 0x0400, 0x0400]);
  });

  it('breaks ties to even in the normal range', () => {
    // 1 + 2^-11 lies halfway between 0x3c00 (even) and 0x3c01; 1 + 3*2^-11 between 0x3c01 and 0x3c02 (even).
    expect(toHalf([1 + 2 ** -11, 1 + 3 * 2 ** -11, 1 + 2 ** -11 + 2 ** -20])).toEqual([
      0x3c00, 0x3c02, 0x3c01,
    ]);
  });

  it('rounds a float64 once, not twice through float32', () => {
    // float32 would first round this to exactly 1 + 2^-11 (a tie), then to 0x3c00; correct is 0x3c01.
    expect(numberToFloat16Bits(1 + 2 ** -11 + 2 ** -40)).toBe(0x3c01);
    expect(numberToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00);
    expect(numberToFloat16Bits(-(2 ** -25) - 2 ** -60)).toBe(0x8001);
  });
});

describe('float16 -> float32', () => {
  it('decodes hand-checked patterns exactly', () => {
    const bits = [0x3c00, 0xc000, 0x0001, 0x03ff, 0x0400, 0x7bff, 0x7c00, 0xfc00, 0x3555];
    expect(Array.from(float16ToFloat32(new Uint16Array(bits)))).toEqual([
      1,
      -2,
      2 ** -24,
      1023 * 2 ** -24,
      2 ** -14,
      65504,
      Infinity,
      -Infinity,
      0.333251953125,
    ]);
    expect(Object.is(float16BitsToNumber(0x8000), -0)).toBe(true);
    expect(Number.isNaN(float16BitsToNumber(0x7e00))).toBe(true);
    expect(Number.isNaN(float16BitsToNumber(0xfc01))).toBe(true);
  });

  it('round-trips every non-NaN pattern, and NaN stays NaN', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = float32ToFloat16(float16ToFloat32(all));
    for (let h = 0; h < 65536; h++) {
      if (isHalfNaN(h)) expect(isHalfNaN(back[h]!)).toBe(true);
      else if (back[h] !== h)
        expect.fail(`pattern 0x${h.toString(16)} came back as 0x${back[h]!.toString(16)}`);
    }
  });
});

describe('bfloat16', () => {
  it('rounds to nearest even and overflows to Inf', () => {
    expect(toBf16([1, -2, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20])).toEqual([
      0x3f80, 0xc000, 0x3f80, 0x3f82, 0x3f81,
    ]);
    // Largest float32 is above the bfloat16 overflow midpoint; the largest bfloat16 stays itself.
    expect(toBf16([3.4028234663852886e38, 3.3895313892515355e38, -Infinity, -0])).toEqual([
      0x7f80, 0x7f7f, 0xff80, 0x8000,
    ]);
  });

  it('handles subnormals and NaN', () => {
    // float32 subnormal bits 0x00008000 tie to 0; 0x00018000 ties to the even 0x0002.
    const input = new Float32Array(
      new Uint32Array([0x00000001, 0x00008000, 0x00018000, 0x00010000, 0x7f800001]).buffer,
    );
    const out = float32ToBfloat16(input);
    expect(Array.from(out.subarray(0, 4))).toEqual([0x0000, 0x0000, 0x0002, 0x0001]);
    expect((out[4]! & 0x7f80) === 0x7f80 && (out[4]! & 0x7f) !== 0).toBe(true);
    expect(bfloat16BitsToNumber(0x0001)).toBe(2 ** -133);
    expect(Number.isNaN(bfloat16BitsToNumber(out[4]!))).toBe(true);
  });

  it('widens exactly and correctly rounds from float64', () => {
    expect(Array.from(bfloat16ToFloat32(new Uint16Array([0x3f80, 0x4049, 0xff80])))).toEqual([
      1,
      3.140625,
      -Infinity,
    ]);
    expect(numberToBfloat16Bits(1 + 2 ** -8 + 2 ** -40)).toBe(0x3f81);
  });
});

describe('castTensor', () => {
  it('converts float32 <-> float16 <-> bfloat16 keeping the shape', () => {
    const t = new Tensor('float32', new Float32Array([1, 65520, 2 ** -25, -0.5]), [2, 2]);
    const half = castTensor(t, 'float16');
    expect(half.dtype).toBe('float16');
    expect(half.dims).toEqual([2, 2]);
    expect(Array.from(half.data)).toEqual([0x3c00, 0x7c00, 0x0000, 0xb800]);
    const bf = castTensor(half, 'bfloat16');
    expect(Array.from(castTensor(bf, 'float32').data)).toEqual([1, Infinity, 0, -0.5]);
  });

  it('returns the same tensor for a no-op cast and refuses integer dtypes', () => {
    const t = new Tensor('float16', new Uint16Array([0x3c00]), [1]);
    expect(castTensor(t, 'float16')).toBe(t);
    const ints = new Tensor('int32', new Int32Array([1]), [1]);
    expect(() => castTensor(ints, 'float32')).toThrow(expect.objectContaining({ code: 'E_TENSOR_CAST' }));
  });
});
