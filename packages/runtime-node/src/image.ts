import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type RgbImage, ShortvError } from '@shortv/tensor';
import sharp, { type Metadata, type OutputInfo, type Sharp, type SharpOptions } from 'sharp';

export interface DecodeImageOptions {
  /**
   * The most pixels a decoded image may have (default 40 megapixels). A larger image is downscaled while
   * it is read, keeping its aspect ratio, when its format can be read in bands (baseline JPEG,
   * non-interlaced PNG, WebP); any other larger image is refused, since decoding it needs it whole in memory.
   */
  maxPixels?: number;
  /** The largest image, by its header, that is read at all (default 1 gigapixel); larger ones are refused. */
  maxInputPixels?: number;
  /**
   * Convert through an embedded ICC profile to sRGB (default false: pixel values are taken as stored,
   * as PIL and Hugging Face processors do, so features match the Python reference).
   */
  applyIccProfile?: boolean;
  /** Longest a decode may take (default 120 s); past it the decode stops with `E_IMAGE_TIMEOUT`. */
  timeoutSeconds?: number;
}

/** RGB pixels plus what was read: the format and the full (orientation-applied) size before any downscale. */
export interface DecodedImage extends RgbImage {
  format: string;
  sourceWidth: number;
  sourceHeight: number;
}

export const DEFAULT_MAX_PIXELS = 40_000_000;
export const DEFAULT_MAX_INPUT_PIXELS = 1_000_000_000;
export const DEFAULT_DECODE_TIMEOUT_SECONDS = 120;

/**
 * Deflate packs at most about 1032 bytes into one (258-byte matches in 2 bits), so the pixel data of a
 * PNG needs at least its raw size over that ratio; 1100 leaves a margin.
 */
const MAX_DEFLATE_RATIO = 1100;

const WHITE = { r: 255, g: 255, b: 255 };

function checkPixelOption(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ShortvError('E_IMAGE_OPTION', `${name} must be a whole number of pixels >= 1, got ${value}`);
  }
  return value;
}

function megapixels(pixels: number): string {
  return `${(pixels / 1e6).toFixed(1)} megapixels`;
}

/** Formats libvips can shrink while reading, holding only a band of rows (or a reduced decode) at a time. */
function readsInBands(meta: Metadata): boolean {
  if (meta.format === 'jpeg' || meta.format === 'png') return !meta.isProgressive;
  return meta.format === 'webp';
}

/** The largest size within `maxPixels` with (nearly) the aspect ratio of width x height. */
function fitWithin(width: number, height: number, maxPixels: number): [number, number] {
  const scale = Math.sqrt(maxPixels / (width * height));
  let w = Math.max(1, Math.floor(width * scale));
  let h = Math.max(1, Math.floor(height * scale));
  while (w * h > maxPixels) {
    if (w >= h) w -= 1;
    else h -= 1;
  }
  return [w, h];
}

function decodeError(source: string, error: unknown): ShortvError {
  const reason = error instanceof Error ? error.message : String(error);
  if (/unsupported image format|empty/i.test(reason)) {
    return new ShortvError(
      'E_IMAGE_DECODE',
      `${source} is not an image this decoder reads (PNG, JPEG, WebP, GIF, AVIF, TIFF, SVG); ` +
        'pass an image file or convert it to PNG or JPEG',
      { cause: error },
    );
  }
  return new ShortvError(
    'E_IMAGE_DECODE',
    `${source} could not be decoded (${reason}); the file may be damaged or cut short: re-save or re-export it`,
    { cause: error },
  );
}

async function decode(
  input: string | Buffer,
  inputBytes: number,
  source: string,
  options: DecodeImageOptions,
): Promise<DecodedImage> {
  const maxPixels = checkPixelOption(options.maxPixels, DEFAULT_MAX_PIXELS, 'maxPixels');
  const maxInputPixels = checkPixelOption(options.maxInputPixels, DEFAULT_MAX_INPUT_PIXELS, 'maxInputPixels');
  const timeoutSeconds = checkPixelOption(
    options.timeoutSeconds,
    DEFAULT_DECODE_TIMEOUT_SECONDS,
    'timeoutSeconds',
  );
  const base: SharpOptions = {
    failOn: 'error',
    ignoreIcc: options.applyIccProfile !== true,
    limitInputPixels: false,
  };

  // The header alone decides whether and how the image is read, before any pixel is decoded.
  let meta: Metadata;
  try {
    meta = await sharp(input, base).metadata();
  } catch (error) {
    throw decodeError(source, error);
  }
  const { width, height } = meta;
  if (!(width >= 1 && height >= 1)) throw decodeError(source, new Error('the header gives no image size'));
  const pixels = width * height;
  if (pixels > maxInputPixels) {
    throw new ShortvError(
      'E_IMAGE_TOO_LARGE',
      `${source} is ${width}x${height} (${megapixels(pixels)}), over the limit of ${megapixels(maxInputPixels)}; ` +
        'shrink the image first or raise maxInputPixels',
    );
  }
  if (pixels > maxPixels && !readsInBands(meta)) {
    const kind = meta.isProgressive ? `an interlaced/progressive ${meta.format}` : `a ${meta.format}`;
    throw new ShortvError(
      'E_IMAGE_TOO_LARGE',
      `${source} is ${width}x${height} (${megapixels(pixels)}), over maxPixels (${megapixels(maxPixels)}), and as ` +
        `${kind} it can only be decoded whole; raise maxPixels or re-save it as baseline JPEG or non-interlaced PNG`,
    );
  }

  // At 1 bit per pixel (the least a PNG stores) the rows need this many bytes before compression: a file
  // far smaller than that is cut short or its header damaged, and decoding it would spend seconds on
  // rows that are not there.
  const leastRawBytes = height * (1 + Math.ceil(width / 8));
  if (meta.format === 'png' && inputBytes * MAX_DEFLATE_RATIO < leastRawBytes) {
    throw decodeError(
      source,
      new Error(`its header says ${width}x${height}, more than its ${inputBytes} bytes can hold`),
    );
  }

  const sourceWidth = meta.autoOrient?.width ?? width;
  const sourceHeight = meta.autoOrient?.height ?? height;
  let pipeline: Sharp = sharp(input, { ...base, limitInputPixels: maxInputPixels, autoOrient: true });
  if (pixels > maxPixels) {
    const [w, h] = fitWithin(sourceWidth, sourceHeight, maxPixels);
    pipeline = pipeline.resize(w, h, { fit: 'fill' });
  }
  pipeline = pipeline
    .flatten({ background: WHITE })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .timeout({ seconds: timeoutSeconds });

  let result: { data: Buffer; info: OutputInfo };
  try {
    result = await pipeline.toBuffer({ resolveWithObject: true });
  } catch (error) {
    if (error instanceof Error && /^timeout/i.test(error.message)) {
      throw new ShortvError(
        'E_IMAGE_TIMEOUT',
        `${source} took more than ${timeoutSeconds} s to decode (${error.message.split('\n')[0]}); it may be damaged, or raise timeoutSeconds`,
        { cause: error },
      );
    }
    throw decodeError(source, error);
  }
  const { data, info } = result;
  if (info.channels !== 3 || data.byteLength !== info.width * info.height * 3) {
    throw new ShortvError(
      'E_IMAGE_DECODE',
      `${source} decoded to ${info.channels} channels of ${info.width}x${info.height}, not RGB; convert it to an 8-bit RGB PNG or JPEG`,
    );
  }
  return {
    width: info.width,
    height: info.height,
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    format: meta.format,
    sourceWidth,
    sourceHeight,
  };
}

/**
 * Decodes an image file to 8-bit RGB (HWC): EXIF orientation applied, alpha flattened onto white,
 * greyscale expanded. Huge images are downscaled while read or refused (see DecodeImageOptions).
 */
export async function decodeImageFile(path: string, options: DecodeImageOptions = {}): Promise<DecodedImage> {
  const file = resolve(path);
  let isFile: boolean;
  let size: number;
  try {
    const info = await stat(file);
    isFile = info.isFile();
    size = info.size;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new ShortvError('E_INPUT_NOT_FOUND', `image file ${file} does not exist; check the path`, {
        cause: error,
      });
    }
    throw new ShortvError('E_IMAGE_DECODE', `cannot read image file ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!isFile) {
    throw new ShortvError('E_INPUT_NOT_A_FILE', `${file} is not a file; pass the path of an image file`);
  }
  return decode(file, size, file, options);
}

/** Decodes image bytes already in memory (an upload, a fetched body); same rules as decodeImageFile. */
export async function decodeImageBytes(
  bytes: Uint8Array,
  options: DecodeImageOptions & { name?: string } = {},
): Promise<DecodedImage> {
  const source = options.name ?? `the ${bytes.byteLength}-byte image`;
  if (bytes.byteLength === 0) throw decodeError(source, new Error('empty input'));
  return decode(
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    bytes.byteLength,
    source,
    options,
  );
}
