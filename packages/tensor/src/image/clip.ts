import { ShortvError } from '../errors.ts';
import type { Tensor } from '../tensor.ts';
import { centerCrop, convertToRgb, normalize, rescale, toChwFloat32 } from './ops.ts';
import { Resample, resizeImage, shortestEdgeSize } from './resize.ts';
import type { FloatRgbImage, RawImage, RgbImage } from './types.ts';

/** The preprocessor_config.json fields CLIPImageProcessor reads (snake_case as in the file). */
export interface ClipProcessorConfig {
  image_processor_type?: string;
  do_resize?: boolean;
  size?: number | { shortest_edge?: number; height?: number; width?: number };
  resample?: number;
  do_center_crop?: boolean;
  crop_size?: number | { height?: number; width?: number };
  do_rescale?: boolean;
  rescale_factor?: number;
  do_normalize?: boolean;
  image_mean?: number | number[];
  image_std?: number | number[];
  do_convert_rgb?: boolean;
}

export type ResizeTarget = { shortestEdge: number } | { height: number; width: number };

/** A config with transformers' CLIPImageProcessor defaults filled in and every field checked. */
export interface ResolvedClipConfig {
  doResize: boolean;
  size: ResizeTarget;
  resample: number;
  doCenterCrop: boolean;
  cropSize: { height: number; width: number };
  doRescale: boolean;
  rescaleFactor: number;
  doNormalize: boolean;
  imageMean: [number, number, number];
  imageStd: [number, number, number];
  doConvertRgb: boolean;
}

export const OPENAI_CLIP_MEAN: readonly [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
export const OPENAI_CLIP_STD: readonly [number, number, number] = [0.26862954, 0.26130258, 0.27577711];
const IMAGENET_STANDARD: readonly [number, number, number] = [0.5, 0.5, 0.5];

function configError(message: string): ShortvError {
  return new ShortvError('E_IMAGE_CONFIG', `preprocessor config: ${message}`);
}

function bool(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean')
    throw configError(`${name} must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

function positiveInt(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw configError(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function triple(
  value: unknown,
  name: string,
  fallback: readonly [number, number, number],
): [number, number, number] {
  if (value === undefined || value === null) return [...fallback];
  const list = typeof value === 'number' ? [value, value, value] : value;
  if (
    !Array.isArray(list) ||
    list.length !== 3 ||
    list.some((v) => typeof v !== 'number' || !Number.isFinite(v))
  ) {
    throw configError(`${name} must be a number or a list of 3 numbers, got ${JSON.stringify(value)}`);
  }
  return [list[0], list[1], list[2]];
}

function resolveSize(value: ClipProcessorConfig['size']): ResizeTarget {
  if (value === undefined || value === null) return { shortestEdge: 224 };
  // A bare number is a shortest edge for CLIP (get_size_dict with default_to_square=False).
  if (typeof value === 'number') return { shortestEdge: positiveInt(value, 'size') };
  if (typeof value !== 'object')
    throw configError(`size must be a number or an object, got ${JSON.stringify(value)}`);
  if (value.shortest_edge !== undefined)
    return { shortestEdge: positiveInt(value.shortest_edge, 'size.shortest_edge') };
  if (value.height !== undefined && value.width !== undefined) {
    return {
      height: positiveInt(value.height, 'size.height'),
      width: positiveInt(value.width, 'size.width'),
    };
  }
  throw configError(`size needs shortest_edge or both height and width, got ${JSON.stringify(value)}`);
}

function resolveCropSize(value: ClipProcessorConfig['crop_size']): { height: number; width: number } {
  if (value === undefined || value === null) return { height: 224, width: 224 };
  if (typeof value === 'number') {
    const side = positiveInt(value, 'crop_size');
    return { height: side, width: side };
  }
  if (typeof value !== 'object' || value.height === undefined || value.width === undefined) {
    throw configError(`crop_size must be a number or {height, width}, got ${JSON.stringify(value)}`);
  }
  return {
    height: positiveInt(value.height, 'crop_size.height'),
    width: positiveInt(value.width, 'crop_size.width'),
  };
}

export function resolveClipConfig(config: ClipProcessorConfig): ResolvedClipConfig {
  if (typeof config !== 'object' || config === null) throw configError('expected an object');
  const resample = config.resample ?? Resample.BICUBIC;
  if (typeof resample !== 'number')
    throw configError(`resample must be a PIL filter number, got ${JSON.stringify(resample)}`);
  const rescaleFactor = config.rescale_factor ?? 1 / 255;
  if (typeof rescaleFactor !== 'number' || !Number.isFinite(rescaleFactor)) {
    throw configError(`rescale_factor must be a finite number, got ${JSON.stringify(rescaleFactor)}`);
  }
  // SiglipImageProcessor resizes straight to size (default 224x224) and has no center-crop step, whatever
  // the file says; its mean and std default to 0.5.
  const siglip = /^SiglipImageProcessor/.test(config.image_processor_type ?? '');
  const imageStd = triple(config.image_std, 'image_std', siglip ? IMAGENET_STANDARD : OPENAI_CLIP_STD);
  if (imageStd.includes(0)) throw configError('image_std must not contain 0');
  return {
    doResize: bool(config.do_resize, 'do_resize', true),
    size: siglip && config.size == null ? { height: 224, width: 224 } : resolveSize(config.size),
    resample,
    doCenterCrop: !siglip && bool(config.do_center_crop, 'do_center_crop', true),
    cropSize: resolveCropSize(config.crop_size),
    doRescale: bool(config.do_rescale, 'do_rescale', true),
    rescaleFactor,
    doNormalize: bool(config.do_normalize, 'do_normalize', true),
    imageMean: triple(config.image_mean, 'image_mean', siglip ? IMAGENET_STANDARD : OPENAI_CLIP_MEAN),
    imageStd,
    doConvertRgb: bool(config.do_convert_rgb, 'do_convert_rgb', true),
  };
}

/**
 * CLIPImageProcessor's pipeline on one 8-bit image: convert to RGB, resize (PIL semantics), center
 * crop, rescale, normalize, and lay out as a float32 tensor [1, 3, H, W] (`pixel_values`).
 */
export function clipPreprocess(
  img: RawImage,
  config: ClipProcessorConfig | ResolvedClipConfig,
): Tensor<'float32'> {
  const c = 'doResize' in config ? config : resolveClipConfig(config);
  const channels = img.channels ?? 3;
  if (!c.doConvertRgb && channels !== 3) {
    throw new ShortvError(
      'E_IMAGE_CHANNELS',
      `the image has ${channels} channels and do_convert_rgb is false; pass an RGB image or enable do_convert_rgb`,
    );
  }
  let rgb: RgbImage = convertToRgb(img);
  if (c.doResize) {
    const target =
      'shortestEdge' in c.size ? shortestEdgeSize(rgb.width, rgb.height, c.size.shortestEdge) : c.size;
    rgb = resizeImage(rgb, target.width, target.height, c.resample);
  }
  if (c.doCenterCrop) rgb = centerCrop(rgb, c.cropSize.height, c.cropSize.width);
  let pixels: RgbImage | FloatRgbImage = rgb;
  if (c.doRescale) pixels = rescale(pixels, c.rescaleFactor);
  if (c.doNormalize) pixels = normalize(pixels, c.imageMean, c.imageStd);
  return toChwFloat32(pixels);
}
