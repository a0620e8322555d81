import { describe, expect, it } from 'vitest';
import {
  centerCrop,
  clipPreprocess,
  convertToRgb,
  normalize,
  OPENAI_CLIP_MEAN,
  rescale,
  resolveClipConfig,
  toChwFloat32,
} from '../src/index.ts';
import { CLIP_PIPELINE_HEX } from './fixtures/pil-resize.ts';
import { fromHex, testImage } from './image-helpers.ts';

/** Pixel (x, y) of a test image, as [r, g, b]. */
function pixel(img: { width: number; data: Uint8Array }, x: number, y: number): number[] {
  const at = (y * img.width + x) * 3;
  return Array.from(img.data.subarray(at, at + 3));
}

describe('centerCrop (transformers center_crop)', () => {
  it('uses floor((H - h) / 2) for odd differences', () => {
    const img = testImage('pattern', 5, 5);
    const out = centerCrop(img, 2, 2); // top = left = (5 - 2) // 2 = 1
    expect([out.width, out.height]).toEqual([2, 2]);
    expect(pixel(out, 0, 0)).toEqual(pixel(img, 1, 1));
    expect(pixel(out, 1, 1)).toEqual(pixel(img, 2, 2));
    const even = centerCrop(testImage('pattern', 4, 4), 3, 3); // (4 - 3) // 2 = 0
    expect(pixel(even, 0, 0)).toEqual(pixel(testImage('pattern', 4, 4), 0, 0));
  });

  it('crops height and width independently (7 wide, 5 tall -> 4x4 starts at x=1, y=0)', () => {
    const img = testImage('pattern', 7, 5);
    const out = centerCrop(img, 4, 4);
    expect(pixel(out, 0, 0)).toEqual(pixel(img, 1, 0));
    expect(pixel(out, 3, 3)).toEqual(pixel(img, 4, 3));
  });

  it('zero-pads a smaller image with the extra pixel before it (ceil on top/left)', () => {
    // 2x1 image into 3 wide x 4 tall: top pad ceil(3/2) = 2, left pad ceil(1/2) = 1.
    const img = { width: 2, height: 1, data: Uint8Array.from([10, 11, 12, 20, 21, 22]) };
    const out = centerCrop(img, 4, 3);
    const rows = [0, 1, 2, 3].map((y) => [0, 1, 2].map((x) => pixel(out, x, y)));
    const z = [0, 0, 0];
    expect(rows).toEqual([
      [z, z, z],
      [z, z, z],
      [z, [10, 11, 12], [20, 21, 22]],
      [z, z, z],
    ]);
  });

  it('pads one axis while cropping the other', () => {
    const img = testImage('pattern', 5, 1);
    const out = centerCrop(img, 2, 3); // rows: pad 1 on top; columns: crop from x = 1
    expect(pixel(out, 0, 0)).toEqual([0, 0, 0]);
    expect(pixel(out, 0, 1)).toEqual(pixel(img, 1, 0));
    expect(pixel(out, 2, 1)).toEqual(pixel(img, 3, 0));
  });
});

describe('rescale / normalize / toChwFloat32', () => {
  it('rescales by 1/255 and normalizes per channel', () => {
    const img = { width: 1, height: 2, data: Uint8Array.from([0, 255, 51, 255, 0, 102]) };
    const scaled = rescale(img);
    expect(Array.from(scaled.data)).toEqual([0, 1, Math.fround(0.2), 1, 0, Math.fround(0.4)]);
    const normed = normalize(scaled, [0.5, 0.5, 0.5], [0.5, 0.25, 0.5]);
    // (0 - 0.5)/0.5 = -1, (1 - 0.5)/0.25 = 2, (0.2 - 0.5)/0.5 = -0.6 in float32 steps
    expect(normed.data[0]).toBe(-1);
    expect(normed.data[1]).toBe(2);
    expect(normed.data[2]).toBe(Math.fround(Math.fround(Math.fround(0.2) - 0.5) / 0.5));
    expect(normed.data[4]).toBe(-2);
  });

  it('lays out channels first as [1, 3, H, W]', () => {
    const img = { width: 2, height: 1, data: Uint8Array.from([1, 2, 3, 4, 5, 6]) };
    const t = toChwFloat32(img);
    expect(t.dims).toEqual([1, 3, 1, 2]);
    expect(Array.from(t.data)).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('refuses a zero std and a wrong number of channels in mean', () => {
    const img = rescale(testImage('pattern', 1, 1));
    expect(() => normalize(img, 0.5, [1, 0, 1])).toThrow(expect.objectContaining({ code: 'E_IMAGE_CONFIG' }));
    expect(() => normalize(img, [0.5, 0.5], 1)).toThrow(expect.objectContaining({ code: 'E_IMAGE_CONFIG' }));
  });
});

describe('convertToRgb', () => {
  it('replicates grey, drops alpha, passes RGB through', () => {
    expect(
      Array.from(convertToRgb({ width: 2, height: 1, channels: 1, data: Uint8Array.from([7, 9]) }).data),
    ).toEqual([7, 7, 7, 9, 9, 9]);
    expect(
      Array.from(convertToRgb({ width: 1, height: 1, channels: 2, data: Uint8Array.from([7, 0]) }).data),
    ).toEqual([7, 7, 7]);
    expect(
      Array.from(
        convertToRgb({ width: 1, height: 1, channels: 4, data: Uint8Array.from([1, 2, 3, 0]) }).data,
      ),
    ).toEqual([1, 2, 3]);
    expect(() => convertToRgb({ width: 1, height: 1, channels: 5, data: new Uint8Array(5) })).toThrow(
      expect.objectContaining({ code: 'E_IMAGE_CHANNELS' }),
    );
  });
});

describe('clipPreprocess', () => {
  it('matches the transformers pipeline bit for bit on a small image', () => {
    const t = clipPreprocess(testImage('pattern', 10, 7), {
      size: { shortest_edge: 5 },
      crop_size: { height: 4, width: 4 },
    });
    expect(t.dims).toEqual([1, 3, 4, 4]);
    expect(Array.from(t.bytes())).toEqual(Array.from(fromHex(CLIP_PIPELINE_HEX)));
  });

  it('fills in CLIPImageProcessor defaults and accepts the old integer forms', () => {
    const c = resolveClipConfig({});
    expect(c.size).toEqual({ shortestEdge: 224 });
    expect(c.cropSize).toEqual({ height: 224, width: 224 });
    expect(c.resample).toBe(3);
    expect(c.imageMean).toEqual([...OPENAI_CLIP_MEAN]);
    expect(c.rescaleFactor).toBe(1 / 255);
    const old = resolveClipConfig({ size: 336, crop_size: 336 });
    expect(old.size).toEqual({ shortestEdge: 336 });
    expect(old.cropSize).toEqual({ height: 336, width: 336 });
  });

  it('reads a SiglipImageProcessor config as transformers does: no center crop, mean and std 0.5', () => {
    const c = resolveClipConfig({ image_processor_type: 'SiglipImageProcessor', do_center_crop: true });
    expect(c.doCenterCrop).toBe(false);
    expect(c.size).toEqual({ height: 224, width: 224 });
    expect(c.imageMean).toEqual([0.5, 0.5, 0.5]);
    expect(c.imageStd).toEqual([0.5, 0.5, 0.5]);
    const t = clipPreprocess(testImage('pattern', 6, 4), {
      image_processor_type: 'SiglipImageProcessor',
      size: { height: 3, width: 5 },
    });
    expect(t.dims).toEqual([1, 3, 3, 5]);
  });

  it('resizes to an exact {height, width} and skips disabled steps', () => {
    const t = clipPreprocess(testImage('pattern', 6, 4), {
      size: { height: 2, width: 3 },
      do_center_crop: false,
      do_rescale: false,
      do_normalize: false,
    });
    expect(t.dims).toEqual([1, 3, 2, 3]);
    expect(t.data.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)).toBe(true);
    const untouched = clipPreprocess(testImage('pattern', 2, 2), {
      do_resize: false,
      do_center_crop: false,
      do_rescale: false,
      do_normalize: false,
    });
    expect(Array.from(untouched.data)).toEqual(Array.from(toChwFloat32(testImage('pattern', 2, 2)).data));
  });

  it('converts RGBA input unless do_convert_rgb is false', () => {
    const rgba = { width: 1, height: 1, channels: 4, data: Uint8Array.from([255, 0, 51, 9]) };
    const config = { do_resize: false, do_center_crop: false, do_normalize: false };
    expect(Array.from(clipPreprocess(rgba, config).data)).toEqual([1, 0, Math.fround(0.2)]);
    expect(() => clipPreprocess(rgba, { ...config, do_convert_rgb: false })).toThrow(
      expect.objectContaining({ code: 'E_IMAGE_CHANNELS' }),
    );
  });

  it('names the bad field of an invalid config', () => {
    expect(() => resolveClipConfig({ size: { longest_edge: 3 } as never })).toThrow(
      /size needs shortest_edge/,
    );
    expect(() => resolveClipConfig({ crop_size: { height: 0, width: 2 } })).toThrow(/crop_size.height/);
    expect(() => resolveClipConfig({ image_std: [1, 1] })).toThrow(/image_std/);
    expect(() => resolveClipConfig({ do_resize: 'yes' as never })).toThrow(
      expect.objectContaining({ code: 'E_IMAGE_CONFIG' }),
    );
  });
});
