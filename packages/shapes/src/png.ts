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

/** Decodes an 8-bit PNG (grey, grey+alpha, RGB or RGBA; alpha dropped) to RGB. */
export function decodePng(bytes: Uint8Array): RgbImage {
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
