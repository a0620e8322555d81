import { ShortvError } from '../errors.ts';
import { checkImage, checkSize, type RgbImage } from './types.ts';

/** PIL's resampling filter codes, as stored in preprocessor_config.json `resample`. */
export const Resample = {
  NEAREST: 0,
  LANCZOS: 1,
  BILINEAR: 2,
  BICUBIC: 3,
  BOX: 4,
  HAMMING: 5,
} as const;

interface Filter {
  support: number;
  weight(x: number): number;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

// The kernels PIL's libImaging uses for Image.resize; the constants and edge cases match it,
// including the float-typed 0.54f/0.46f of the Hamming window.
const FILTERS: Record<number, Filter> = {
  [Resample.BOX]: { support: 0.5, weight: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  [Resample.BILINEAR]: {
    support: 1,
    weight: (x) => {
      const ax = Math.abs(x);
      return ax < 1 ? 1 - ax : 0;
    },
  },
  [Resample.HAMMING]: {
    support: 1,
    weight: (x) => {
      const ax = Math.abs(x);
      if (ax === 0) return 1;
      if (ax >= 1) return 0;
      const px = ax * Math.PI;
      return (Math.sin(px) / px) * (Math.fround(0.54) + Math.fround(0.46) * Math.cos(px));
    },
  },
  [Resample.BICUBIC]: {
    support: 2,
    weight: (x) => {
      const a = -0.5;
      const ax = Math.abs(x);
      if (ax < 1) return ((a + 2) * ax - (a + 3)) * ax * ax + 1;
      if (ax < 2) return (((ax - 5) * ax + 8) * ax - 4) * a;
      return 0;
    },
  },
  [Resample.LANCZOS]: {
    support: 3,
    weight: (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0),
  },
};

// Fixed point as in PIL's 8-bit path: 32 bits minus 8 for the pixel and 2 for overshoot.
const PRECISION_BITS = 22;
const HALF = 1 << (PRECISION_BITS - 1);

interface Coefficients {
  /** Per output pixel: first input index and number of taps. */
  first: Int32Array;
  taps: Int32Array;
  /** Fixed-point weights, `stride` slots per output pixel. */
  weights: Int32Array;
  stride: number;
}

/**
 * One output pixel's taps cover the input pixels whose centres lie within the (downscale-widened)
 * filter support around the output pixel's centre; weights are normalised to sum to 1 and then
 * rounded to fixed point away from zero, exactly as PIL does, so results agree to the last bit.
 */
function coefficients(inSize: number, outSize: number, filter: Filter): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const stride = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const taps = new Int32Array(outSize);
  const weights = new Int32Array(outSize * stride);
  const raw = new Float64Array(stride);
  // PIL multiplies by the reciprocal rather than dividing; the last bit can differ, so do the same.
  const inverseScale = 1 / filterScale;
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const hi = Math.min(Math.trunc(center + support + 0.5), inSize);
    const count = hi - lo;
    let total = 0;
    for (let i = 0; i < count; i++) {
      raw[i] = filter.weight((i + lo - center + 0.5) * inverseScale);
      total += raw[i]!;
    }
    for (let i = 0; i < count; i++) {
      const w = total !== 0 ? raw[i]! / total : raw[i]!;
      const fixed = w * (1 << PRECISION_BITS);
      weights[o * stride + i] = w < 0 ? Math.trunc(fixed - 0.5) : Math.trunc(fixed + 0.5);
    }
    first[o] = lo;
    taps[o] = count;
  }
  return { first, taps, weights, stride };
}

function clip8(sum: number): number {
  const v = sum >> PRECISION_BITS;
  return Math.min(Math.max(v, 0), 255);
}

function resampleRows(
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  c: Coefficients,
): Uint8Array {
  const out = new Uint8Array(outWidth * height * channels);
  for (let y = 0; y < height; y++) {
    const rowIn = y * width * channels;
    const rowOut = y * outWidth * channels;
    for (let x = 0; x < outWidth; x++) {
      const base = c.first[x]!;
      const count = c.taps[x]!;
      const k = x * c.stride;
      for (let ch = 0; ch < channels; ch++) {
        let sum = HALF;
        for (let i = 0; i < count; i++) sum += src[rowIn + (base + i) * channels + ch]! * c.weights[k + i]!;
        out[rowOut + x * channels + ch] = clip8(sum);
      }
    }
  }
  return out;
}

function resampleColumns(
  src: Uint8Array,
  width: number,
  channels: number,
  outHeight: number,
  c: Coefficients,
): Uint8Array {
  const rowLength = width * channels;
  const out = new Uint8Array(rowLength * outHeight);
  for (let y = 0; y < outHeight; y++) {
    const base = c.first[y]!;
    const count = c.taps[y]!;
    const k = y * c.stride;
    for (let j = 0; j < rowLength; j++) {
      let sum = HALF;
      for (let i = 0; i < count; i++) sum += src[(base + i) * rowLength + j]! * c.weights[k + i]!;
      out[y * rowLength + j] = clip8(sum);
    }
  }
  return out;
}

/**
 * Resizes like PIL's `Image.resize((width, height), resample)` on an 8-bit RGB image: a separable
 * convolution, horizontal pass first with its result rounded to 8 bits, then vertical; a pass whose
 * size does not change is skipped, and equal sizes return a copy.
 */
export function resizeImage(
  img: RgbImage,
  width: number,
  height: number,
  resample: number = Resample.BICUBIC,
): RgbImage {
  checkImage(img, 3, 'resizeImage');
  checkSize(width, height, 'resizeImage');
  const filter = FILTERS[resample];
  if (filter === undefined) {
    throw new ShortvError(
      'E_IMAGE_RESAMPLE',
      `resample ${resample} is not supported; use 1 (LANCZOS), 2 (BILINEAR), 3 (BICUBIC), 4 (BOX) or 5 (HAMMING)`,
    );
  }
  const channels = 3;
  let data = img.data;
  if (width !== img.width) {
    data = resampleRows(data, img.width, img.height, channels, width, coefficients(img.width, width, filter));
  }
  if (height !== img.height) {
    data = resampleColumns(data, width, channels, height, coefficients(img.height, height, filter));
  }
  return { width, height, data: data === img.data ? data.slice() : data };
}

/**
 * Output (height, width) when the shorter edge becomes `size`, as transformers'
 * `get_resize_output_image_size(default_to_square=False)` computes it: the long edge is
 * `int(size * long / short)`, truncated, and a square image stays square.
 */
export function shortestEdgeSize(
  width: number,
  height: number,
  size: number,
): { width: number; height: number } {
  if (!Number.isInteger(size) || size < 1) {
    throw new ShortvError('E_IMAGE_SIZE', `shortest edge size must be a positive integer, got ${size}`);
  }
  if (width <= height) return { width: size, height: Math.trunc((size * height) / width) };
  return { width: Math.trunc((size * width) / height), height: size };
}

/** Resizes so the shorter edge is `size`, keeping the aspect ratio (CLIP's `size.shortest_edge`). */
export function resizeShortestEdge(
  img: RgbImage,
  size: number,
  resample: number = Resample.BICUBIC,
): RgbImage {
  checkImage(img, 3, 'resizeShortestEdge');
  const target = shortestEdgeSize(img.width, img.height, size);
  return resizeImage(img, target.width, target.height, resample);
}
