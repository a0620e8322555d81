import { ShortvError } from './errors.ts';
import { type DType, Tensor } from './tensor.ts';

// One scratch word shared by the scalar helpers: reading a float32's bits needs a typed-array view.
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

function float32Bits(x: number): number {
  scratchF32[0] = x;
  return scratchU32[0]!;
}

/**
 * float32 bit pattern -> IEEE binary16 bit pattern, round to nearest, ties to even.
 * Overflow gives ±Inf, results below half the smallest subnormal give ±0, NaN stays a quiet NaN.
 */
function float16BitsFromFloat32Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) {
    // Keep the top payload bits of a NaN and force the quiet bit so it can never turn into Inf.
    return mantissa === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mantissa >>> 13);
  }
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 31) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // The result is subnormal (or zero): shift the full significand, implicit bit included.
    if (halfExponent < -10) return sign;
    const significand = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    let half = significand >>> shift;
    const rest = significand & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1) === 1)) half += 1;
    // A carry out of the subnormal range lands exactly on the smallest normal's encoding.
    return sign | half;
  }
  let half = (halfExponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half += 1;
  // A carry into the exponent is the correct next binade, and out of 30 it is exactly Inf.
  return sign | half;
}

/** float32 bit pattern -> bfloat16 bit pattern, round to nearest, ties to even. */
function bfloat16BitsFromFloat32Bits(bits: number): number {
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0) {
    return ((bits >>> 16) | 0x0040) & 0xffff;
  }
  const lsb = (bits >>> 16) & 1;
  return ((bits + 0x7fff + lsb) >>> 16) & 0xffff;
}

function float32BitsFromFloat16Bits(half: number): number {
  const sign = (half & 0x8000) << 16;
  const exponent = (half >>> 10) & 0x1f;
  let mantissa = half & 0x3ff;
  if (exponent === 0x1f) return (sign | 0x7f800000 | (mantissa << 13)) >>> 0;
  if (exponent === 0) {
    if (mantissa === 0) return sign >>> 0;
    // Subnormal half: every one is a normal float32; renormalise the significand.
    let e = 113;
    while ((mantissa & 0x400) === 0) {
      mantissa <<= 1;
      e -= 1;
    }
    return (sign | (e << 23) | ((mantissa & 0x3ff) << 13)) >>> 0;
  }
  return (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0;
}

/**
 * Bits of x rounded to float32 with round-to-odd. Rounding that once more to a format with at least
 * two fewer significand bits gives the correctly rounded result, which plain double -> float32 ->
 * half rounding does not (it can round twice in the same direction).
 */
function roundToOddFloat32Bits(x: number): number {
  const f = Math.fround(x);
  let bits = float32Bits(f);
  if (f === x || Number.isNaN(x)) return bits;
  if (Math.abs(f) > Math.abs(x)) bits -= 1;
  return (bits | 1) >>> 0;
}

/** A number -> IEEE binary16 bits, correctly rounded (nearest, ties to even). */
export function numberToFloat16Bits(x: number): number {
  return float16BitsFromFloat32Bits(roundToOddFloat32Bits(x));
}

/** IEEE binary16 bits -> the exact number they encode. */
export function float16BitsToNumber(bits: number): number {
  scratchU32[0] = float32BitsFromFloat16Bits(bits & 0xffff);
  return scratchF32[0]!;
}

/** A number -> bfloat16 bits, correctly rounded (nearest, ties to even). */
export function numberToBfloat16Bits(x: number): number {
  return bfloat16BitsFromFloat32Bits(roundToOddFloat32Bits(x));
}

/** bfloat16 bits -> the exact number they encode. */
export function bfloat16BitsToNumber(bits: number): number {
  scratchU32[0] = (bits & 0xffff) << 16;
  return scratchF32[0]!;
}

let float16Table: Uint32Array | undefined;

function float16ToFloat32Table(): Uint32Array {
  if (float16Table === undefined) {
    float16Table = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) float16Table[h] = float32BitsFromFloat16Bits(h);
  }
  return float16Table;
}

// Results are written as bit patterns through a Uint32Array view so NaN payloads survive unchanged.

/** Widens binary16 bit patterns to float32 (exact). */
export function float16ToFloat32(halves: Uint16Array): Float32Array {
  const table = float16ToFloat32Table();
  const out = new Float32Array(halves.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < halves.length; i++) outBits[i] = table[halves[i]!]!;
  return out;
}

/** Narrows float32 values to binary16 bit patterns (round to nearest, ties to even). */
export function float32ToFloat16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < bits.length; i++) out[i] = float16BitsFromFloat32Bits(bits[i]!);
  return out;
}

/** Widens bfloat16 bit patterns to float32 (exact). */
export function bfloat16ToFloat32(halves: Uint16Array): Float32Array {
  const out = new Float32Array(halves.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < halves.length; i++) outBits[i] = halves[i]! << 16;
  return out;
}

/** Narrows float32 values to bfloat16 bit patterns (round to nearest, ties to even). */
export function float32ToBfloat16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < bits.length; i++) out[i] = bfloat16BitsFromFloat32Bits(bits[i]!);
  return out;
}

export type FloatDType = 'float32' | 'float16' | 'bfloat16';

export function isFloatDType(dtype: DType): dtype is FloatDType {
  return dtype === 'float32' || dtype === 'float16' || dtype === 'bfloat16';
}

function asFloat32(t: Tensor<FloatDType>): Float32Array {
  if (t.dtype === 'float32') return t.data as Float32Array;
  return t.dtype === 'float16'
    ? float16ToFloat32(t.data as Uint16Array)
    : bfloat16ToFloat32(t.data as Uint16Array);
}

/**
 * Converts between float32, float16 and bfloat16. Returns `t` itself when the dtype already matches;
 * otherwise new data. float16 <-> bfloat16 goes through float32, which is exact on the way up, so the
 * result is rounded once.
 */
export function castTensor<T extends FloatDType>(t: Tensor, dtype: T): Tensor<T> {
  if (!isFloatDType(t.dtype) || !isFloatDType(dtype)) {
    throw new ShortvError(
      'E_TENSOR_CAST',
      `castTensor converts between float32, float16 and bfloat16 only; got ${t.dtype} -> ${dtype}`,
    );
  }
  if (t.dtype === dtype) return t as Tensor<T>;
  const wide = asFloat32(t as Tensor<FloatDType>);
  if (dtype === 'float32') return new Tensor('float32', wide, t.dims) as Tensor<T>;
  const narrow = dtype === 'float16' ? float32ToFloat16(wide) : float32ToBfloat16(wide);
  return new Tensor(dtype as 'float16' | 'bfloat16', narrow, t.dims) as Tensor<T>;
}
