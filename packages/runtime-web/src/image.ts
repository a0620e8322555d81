import { type RgbImage, ShortvError } from '@shortv/tensor';

/** RGBA pixels as ImageData holds them: 4 bytes per pixel, row-major, alpha not premultiplied. */
export interface RgbaPixels {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

/**
 * RGBA -> RGB with alpha composited onto white (as runtime-node flattens): c' = round(c·a/255 + 255·(1 − a/255)).
 * Opaque pixels keep their values exactly.
 */
export function rgbaToRgb(image: RgbaPixels): RgbImage {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new ShortvError(
      'E_IMAGE_SHAPE',
      `an RGBA image needs a positive whole size, got ${width}x${height}`,
    );
  }
  if (data.length !== width * height * 4) {
    throw new ShortvError(
      'E_IMAGE_SHAPE',
      `a ${width}x${height} RGBA image needs ${width * height * 4} bytes, got ${data.length}`,
    );
  }
  const out = new Uint8Array(width * height * 3);
  for (let p = 0, q = 0; p < data.length; p += 4, q += 3) {
    const a = data[p + 3]!;
    if (a === 255) {
      out[q] = data[p]!;
      out[q + 1] = data[p + 1]!;
      out[q + 2] = data[p + 2]!;
    } else {
      const white = 255 * (255 - a);
      out[q] = Math.round((data[p]! * a + white) / 255);
      out[q + 1] = Math.round((data[p + 1]! * a + white) / 255);
      out[q + 2] = Math.round((data[p + 2]! * a + white) / 255);
    }
  }
  return { width, height, data: out };
}

type ImageInput = Blob | ImageBitmap | HTMLImageElement | ImageData;

function isImageData(source: ImageInput): source is ImageData {
  return typeof ImageData !== 'undefined' && source instanceof ImageData;
}

function isBlob(source: ImageInput): source is Blob {
  return typeof Blob !== 'undefined' && source instanceof Blob;
}

function describe(source: ImageInput): string {
  if (isBlob(source)) {
    const name = (source as { name?: unknown }).name;
    const label = typeof name === 'string' && name ? name : 'the image';
    return `${label} (${source.size} bytes${source.type ? `, ${source.type}` : ''})`;
  }
  return 'the image';
}

async function toBitmap(source: Exclude<ImageInput, ImageData>): Promise<ImageBitmap> {
  if (typeof createImageBitmap !== 'function') {
    throw new ShortvError(
      'E_IMAGE_DECODE',
      'createImageBitmap is not available here (decodeImage needs a browser page or worker); ' +
        'in Node use decodeImageFile from @shortv/runtime-node',
    );
  }
  if (typeof ImageBitmap !== 'undefined' && source instanceof ImageBitmap) return source;
  try {
    // Pixels as stored: no colour-space conversion or premultiplication, as PIL reads them.
    return await createImageBitmap(source, {
      colorSpaceConversion: 'none',
      premultiplyAlpha: 'none',
      imageOrientation: 'from-image',
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ShortvError(
      'E_IMAGE_DECODE',
      `${describe(source)} could not be decoded as an image (${reason}); pick a PNG, JPEG, WebP or GIF file`,
      { cause: error },
    );
  }
}

/**
 * Decodes an image in a browser page or worker to 8-bit RGB (HWC), alpha composited onto white:
 * a Blob/File is decoded with createImageBitmap (EXIF orientation applied) and read back through an
 * OffscreenCanvas; ImageData is converted directly. An undecodable Blob fails with E_IMAGE_DECODE.
 */
export async function decodeImage(source: ImageInput): Promise<RgbImage> {
  if (isImageData(source)) return rgbaToRgb(source);
  const bitmap = await toBitmap(source);
  const { width, height } = bitmap;
  if (width < 1 || height < 1) {
    throw new ShortvError(
      'E_IMAGE_DECODE',
      `${describe(source)} decoded to an empty ${width}x${height} image`,
    );
  }
  if (typeof OffscreenCanvas === 'undefined') {
    throw new ShortvError(
      'E_IMAGE_DECODE',
      'OffscreenCanvas is not available here; decodeImage needs a modern browser',
    );
  }
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context)
    throw new ShortvError('E_IMAGE_DECODE', 'the browser gave no 2D canvas context to read the image');
  context.drawImage(bitmap, 0, 0);
  if (bitmap !== source) bitmap.close();
  return rgbaToRgb(context.getImageData(0, 0, width, height));
}
