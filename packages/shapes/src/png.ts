import { ShortvError } from '@shortv/tensor';
import { decode, encode } from 'fast-png';
import type { RgbImage } from './render.ts';

/** Encodes an RGB image as an 8-bit truecolour PNG; the bytes depend only on the pixels. */
export function encodePng(image: RgbImage): Uint8Array {
  if (image.data.length !== image.width * image.height * 3) {
    throw new ShortvError(
      'E_IMAGE_SHAPE',
      `RGB image data has ${image.data.length} bytes, expected ${image.width}x${image.height}x3.`,
    );
  }
  return encode({ width: image.width, height: image.height, data: image.data, channels: 3, depth: 8 });
}

/** Largest image decodePng reads: shapes images are at most 768x768; this leaves room for any. */
export const MAX_PNG_PIXELS = 4096 * 4096;

/** Deflate packs at most about 1032 bytes into one; 1100 leaves a margin. */
const MAX_DEFLATE_RATIO = 1100;

/**
 * The header's size is checked before inflating: the decoder allocates for it up front, so a damaged
 * header could claim gigapixels from a few hundred bytes.
 */
function checkHeader(bytes: Uint8Array): void {
  if (bytes.length < 24) return; // too short for a header: the decoder says what is wrong
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  // At 1 bit per pixel, the least a PNG stores, the rows hold this many bytes before compression.
  const leastRawBytes = height * (1 + Math.ceil(width / 8));
  if (width * height > MAX_PNG_PIXELS || bytes.length * MAX_DEFLATE_RATIO < leastRawBytes) {
    throw new ShortvError(
      'E_IMAGE_PNG',
      `not a readable PNG: its header says ${width}x${height}, over ${MAX_PNG_PIXELS} pixels or more than its ${bytes.length} bytes can hold.`,
    );
  }
}

/** Decodes an 8-bit PNG (grey, grey+alpha, RGB or RGBA; alpha dropped) to RGB. */
export function decodePng(bytes: Uint8Array): RgbImage {
  checkHeader(bytes);
  let png: ReturnType<typeof decode>;
  try {
    png = decode(bytes);
  } catch (error) {
    throw new ShortvError('E_IMAGE_PNG', `not a readable PNG: ${(error as Error).message}`, { cause: error });
  }
  if (png.depth !== 8 || png.palette) {
    throw new ShortvError(
      'E_IMAGE_PNG',
      `only 8-bit non-palette PNGs are supported here, got depth ${png.depth}${png.palette ? ' with a palette' : ''}.`,
    );
  }
  const { width, height, channels } = png;
  const src = png.data;
  // A damaged header can still inflate: an empty size, or pixel data that does not fill the size.
  if (
    !(width >= 1 && height >= 1) ||
    channels < 1 ||
    channels > 4 ||
    src.length !== width * height * channels
  ) {
    throw new ShortvError(
      'E_IMAGE_PNG',
      `not a readable PNG: its header says ${width}x${height} with ${channels} channels but it holds ${src.length} samples.`,
    );
  }
  const out = new Uint8Array(width * height * 3);
  for (let i = 0, p = 0; p < out.length; i += channels, p += 3) {
    if (channels >= 3) {
      out[p] = src[i] as number;
      out[p + 1] = src[i + 1] as number;
      out[p + 2] = src[i + 2] as number;
    } else {
      const grey = src[i] as number;
      out[p] = grey;
      out[p + 1] = grey;
      out[p + 2] = grey;
    }
  }
  return { width, height, data: out };
}
