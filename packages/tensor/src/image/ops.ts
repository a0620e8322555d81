import { ShortvError } from '../errors.ts';
import { Tensor } from '../tensor.ts';
import { checkImage, checkSize, type FloatRgbImage, type RawImage, type RgbImage } from './types.ts';

/**
 * To 3-channel RGB the way PIL's `convert('RGB')` does for these modes: grey is replicated and
 * alpha is dropped (not composited). An RGB image is returned as is.
 */
export function convertToRgb(img: RawImage): RgbImage {
  const channels = img.channels ?? 3;
  if (![1, 2, 3, 4].includes(channels)) {
    throw new ShortvError('E_IMAGE_CHANNELS', `images must have 1, 2, 3 or 4 channels, got ${channels}`);
  }
  checkImage(img, channels, 'convertToRgb');
  if (channels === 3) return { width: img.width, height: img.height, data: img.data };
  const pixels = img.width * img.height;
  const out = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    const at = p * channels;
    if (channels <= 2) {
      const grey = img.data[at]!;
      out[p * 3] = grey;
      out[p * 3 + 1] = grey;
      out[p * 3 + 2] = grey;
    } else {
      out[p * 3] = img.data[at]!;
      out[p * 3 + 1] = img.data[at + 1]!;
      out[p * 3 + 2] = img.data[at + 2]!;
    }
  }
  return { width: img.width, height: img.height, data: out };
}

/**
 * Crops the centre `height` x `width` region as transformers' `center_crop` does: the top-left
 * offset is floor((H - h) / 2), floor((W - w) / 2); where the image is smaller than the crop it is
 * zero-padded, with the extra pixel of an odd padding going before the image (ceil on that side).
 * Both cases are the same formula: output (y, x) reads input (y + top, x + left) or 0 outside.
 */
export function centerCrop(img: RgbImage, height: number, width: number): RgbImage {
  checkImage(img, 3, 'centerCrop');
  checkSize(width, height, 'centerCrop');
  const top = Math.floor((img.height - height) / 2);
  const left = Math.floor((img.width - width) / 2);
  const out = new Uint8Array(width * height * 3);
  const x0 = Math.max(0, -left);
  const x1 = Math.min(width, img.width - left);
  for (let y = 0; y < height; y++) {
    const sy = y + top;
    if (sy < 0 || sy >= img.height || x1 <= x0) continue;
    const from = (sy * img.width + x0 + left) * 3;
    out.set(img.data.subarray(from, from + (x1 - x0) * 3), (y * width + x0) * 3);
  }
  return { width, height, data: out };
}

/**
 * value * factor, computed in float64 and stored as float32 (transformers' `rescale`: upcast,
 * multiply, downcast).
 */
export function rescale(img: RgbImage | FloatRgbImage, factor = 1 / 255): FloatRgbImage {
  checkImage(img, 3, 'rescale');
  if (!Number.isFinite(factor))
    throw new ShortvError('E_IMAGE_CONFIG', `rescale factor must be finite, got ${factor}`);
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = img.data[i]! * factor;
  return { width: img.width, height: img.height, data: out };
}

function perChannel(value: number | readonly number[], name: string): [number, number, number] {
  const list = typeof value === 'number' ? [value, value, value] : value;
  if (list.length !== 3 || list.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
    throw new ShortvError(
      'E_IMAGE_CONFIG',
      `${name} must be a finite number or 3 finite numbers, got ${JSON.stringify(value)}`,
    );
  }
  return [list[0]!, list[1]!, list[2]!];
}

/**
 * (value - mean[c]) / std[c] in float32 arithmetic, as transformers' `normalize` does with its
 * float32 mean/std arrays; each step is rounded to float32 so results match bit for bit.
 */
export function normalize(
  img: RgbImage | FloatRgbImage,
  mean: number | readonly number[],
  std: number | readonly number[],
): FloatRgbImage {
  checkImage(img, 3, 'normalize');
  const m = perChannel(mean, 'image_mean').map(Math.fround);
  const s = perChannel(std, 'image_std').map(Math.fround);
  if (s.some((v) => v === 0))
    throw new ShortvError('E_IMAGE_CONFIG', `image_std must not contain 0, got ${JSON.stringify(std)}`);
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < out.length; i++) {
    const c = i % 3;
    out[i] = Math.fround(img.data[i]! - m[c]!) / s[c]!;
  }
  return { width: img.width, height: img.height, data: out };
}

/** HWC pixels -> a float32 tensor [1, 3, H, W] (channels first, batch of one). */
export function toChwFloat32(img: RgbImage | FloatRgbImage): Tensor<'float32'> {
  checkImage(img, 3, 'toChwFloat32');
  const plane = img.width * img.height;
  const out = new Float32Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    out[p] = img.data[p * 3]!;
    out[plane + p] = img.data[p * 3 + 1]!;
    out[2 * plane + p] = img.data[p * 3 + 2]!;
  }
  return new Tensor('float32', out, [1, 3, img.height, img.width]);
}
