import { ShortvError } from '../errors.ts';

/** 8-bit RGB pixels, row-major, channels last (HWC): data.length === width * height * 3. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** An 8-bit image with 1 (L), 2 (LA), 3 (RGB) or 4 (RGBA) interleaved channels; 3 when omitted. */
export interface RawImage {
  width: number;
  height: number;
  data: Uint8Array;
  channels?: number;
}

/** float32 RGB pixels, HWC, as produced by rescale/normalize. */
export interface FloatRgbImage {
  width: number;
  height: number;
  data: Float32Array;
}

export function checkImage(
  img: { width: number; height: number; data: { length: number } },
  channels: number,
  what: string,
): void {
  const { width, height } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new ShortvError(
      'E_IMAGE_SHAPE',
      `${what}: image size ${width}x${height} must be positive integers`,
    );
  }
  if (img.data.length !== width * height * channels) {
    throw new ShortvError(
      'E_IMAGE_SHAPE',
      `${what}: a ${width}x${height} image with ${channels} channels needs ${width * height * channels} ` +
        `values, got ${img.data.length}`,
    );
  }
}

export function checkSize(width: number, height: number, what: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new ShortvError(
      'E_IMAGE_SIZE',
      `${what}: target size ${width}x${height} must be positive integers`,
    );
  }
}
