import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import type { ShortvError } from '@shortv/tensor';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_PIXELS, decodeImageBytes, decodeImageFile } from '../src/image.ts';
import { encodePng, headerOnlyPng, solidPng } from './png.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shortv-image-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function seededBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

async function rejection(promise: Promise<unknown>): Promise<ShortvError> {
  try {
    await promise;
  } catch (error) {
    return error as ShortvError;
  }
  throw new Error('expected the promise to reject');
}

/** Pixel (x, y) of the stored image that EXIF orientation `o` shows at (x', y'), per the EXIF definitions. */
function orientedSource(o: number, x: number, y: number, w: number, h: number): [number, number] {
  switch (o) {
    case 2:
      return [w - 1 - x, y];
    case 3:
      return [w - 1 - x, h - 1 - y];
    case 4:
      return [x, h - 1 - y];
    case 5:
      return [y, x];
    case 6:
      return [y, h - 1 - x];
    case 7:
      return [w - 1 - y, h - 1 - x];
    case 8:
      return [w - 1 - y, x];
    default:
      return [x, y];
  }
}

describe('the PNG fixture writer', () => {
  it('writes a zlib stream whose checksum zlib itself accepts', () => {
    const png = Buffer.from(solidPng(70, 131, [1, 2, 3]));
    const idatLength = png.readUInt32BE(33);
    expect(png.toString('latin1', 37, 41)).toBe('IDAT');
    const raw = inflateSync(png.subarray(41, 41 + idatLength));
    expect(raw.length).toBe(131 * (70 * 3 + 1));
    expect(Array.from(raw.subarray(0, 4))).toEqual([0, 1, 2, 3]);
    expect(raw[70 * 3 + 1]).toBe(2);
  });
});

describe('decodeImageBytes / decodeImageFile', () => {
  it('returns the exact RGB pixels of a PNG, from bytes and from a file', async () => {
    const [w, h] = [37, 23];
    const pixels = seededBytes(w * h * 3, 1);
    const png = encodePng(w, h, 3, pixels);
    const fromBytes = await decodeImageBytes(png);
    expect(fromBytes).toMatchObject({ width: w, height: h, format: 'png', sourceWidth: w, sourceHeight: h });
    expect(Buffer.from(fromBytes.data).equals(Buffer.from(pixels))).toBe(true);

    const path = join(dir, 'rgb.png');
    await writeFile(path, png);
    const fromFile = await decodeImageFile(path);
    expect(Buffer.from(fromFile.data).equals(Buffer.from(pixels))).toBe(true);
  });

  it('expands greyscale to three equal channels', async () => {
    const grey = seededBytes(5 * 4, 2);
    const img = await decodeImageBytes(encodePng(5, 4, 1, grey));
    expect(img.data.length).toBe(5 * 4 * 3);
    for (let i = 0; i < grey.length; i++) {
      expect([img.data[3 * i], img.data[3 * i + 1], img.data[3 * i + 2]]).toEqual([
        grey[i],
        grey[i],
        grey[i],
      ]);
    }
  });

  it('flattens RGBA and grey+alpha onto white', async () => {
    const alphas = [0, 255, 128, 64];
    const rgba = new Uint8Array(alphas.flatMap((a) => [200, 40, 0, a]));
    const img = await decodeImageBytes(encodePng(4, 1, 4, rgba));
    alphas.forEach((a, i) => {
      [200, 40, 0].forEach((c, ch) => {
        const expected = (c * a + 255 * (255 - a)) / 255;
        expect(Math.abs(img.data[3 * i + ch]! - expected)).toBeLessThanOrEqual(1);
      });
    });

    const greyAlpha = await decodeImageBytes(encodePng(2, 1, 2, Uint8Array.of(0, 0, 0, 255)));
    expect(Array.from(greyAlpha.data)).toEqual([255, 255, 255, 0, 0, 0]);
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('applies EXIF orientation %i', async (orientation) => {
    const [w, h] = [3, 2];
    const pixels = seededBytes(w * h * 3, 3);
    const png = await sharp(pixels, { raw: { width: w, height: h, channels: 3 } })
      .withMetadata({ orientation })
      .png()
      .toBuffer();
    const img = await decodeImageBytes(png);
    const swapped = orientation >= 5;
    expect([img.width, img.height]).toEqual(swapped ? [h, w] : [w, h]);
    expect([img.sourceWidth, img.sourceHeight]).toEqual([img.width, img.height]);
    for (let y = 0; y < img.height; y++) {
      for (let x = 0; x < img.width; x++) {
        const [sx, sy] = orientedSource(orientation, x, y, w, h);
        const got = Array.from(img.data.subarray(3 * (y * img.width + x), 3 * (y * img.width + x) + 3));
        expect(got).toEqual(Array.from(pixels.subarray(3 * (sy * w + sx), 3 * (sy * w + sx) + 3)));
      }
    }
  });

  it('decodes JPEG close to its source and lossless WebP exactly', async () => {
    const [w, h] = [64, 48];
    const smooth = new Uint8Array(w * h * 3);
    for (let i = 0; i < w * h; i++) smooth.set([(i % w) * 4, Math.floor(i / w) * 5, 128], 3 * i);
    const raw = { raw: { width: w, height: h, channels: 3 as const } };
    const jpeg = await decodeImageBytes(await sharp(smooth, raw).jpeg({ quality: 95 }).toBuffer());
    expect(jpeg.format).toBe('jpeg');
    let error = 0;
    for (let i = 0; i < smooth.length; i++) error += Math.abs(jpeg.data[i]! - smooth[i]!);
    expect(error / smooth.length).toBeLessThan(3);

    const webp = await decodeImageBytes(await sharp(smooth, raw).webp({ lossless: true }).toBuffer());
    expect(webp.format).toBe('webp');
    expect(Buffer.from(webp.data).equals(Buffer.from(smooth))).toBe(true);
  });

  it('reduces 16-bit PNG to 8 bits and reads the first frame of a GIF', async () => {
    const pixels = seededBytes(6 * 5 * 3, 6);
    const raw = { raw: { width: 6, height: 5, channels: 3 as const } };
    const png16 = await sharp(pixels, raw).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(png16).metadata()).depth).toBe('ushort');
    const deep = await decodeImageBytes(png16);
    expect(Buffer.from(deep.data).equals(Buffer.from(pixels))).toBe(true);

    const twoColours = new Uint8Array(6 * 5 * 3).map((_, i) => (Math.floor(i / 3) % 2 ? 255 : 0));
    const gif = await decodeImageBytes(await sharp(twoColours, raw).gif().toBuffer());
    expect(gif.format).toBe('gif');
    expect(Array.from(gif.data)).toEqual(Array.from(twoColours));
  });

  it('reads the new content when a file is replaced at the same path', async () => {
    const path = join(dir, 'replaced.png');
    await writeFile(path, solidPng(8, 8, [255, 0, 0]));
    expect(Array.from((await decodeImageFile(path)).data.subarray(0, 3))).toEqual([255, 0, 0]);
    await writeFile(path, solidPng(8, 8, [0, 0, 255]));
    expect(Array.from((await decodeImageFile(path)).data.subarray(0, 3))).toEqual([0, 0, 255]);
  });
});

describe('image size limits', () => {
  it('defaults to 40 megapixels', () => {
    expect(DEFAULT_MAX_PIXELS).toBe(40_000_000);
  });

  it('downscales a PNG over maxPixels, keeping its aspect ratio and colour', async () => {
    const img = await decodeImageBytes(solidPng(400, 300, [12, 34, 56]), { maxPixels: 10_000 });
    expect(img.width * img.height).toBeLessThanOrEqual(10_000);
    expect(img.width * img.height).toBeGreaterThan(9_500);
    expect(Math.abs(img.width / img.height - 4 / 3)).toBeLessThan(0.02);
    expect([img.sourceWidth, img.sourceHeight]).toEqual([400, 300]);
    expect(new Set(img.data.filter((_, i) => i % 3 === 0))).toEqual(new Set([12]));
  });

  it('refuses an interlaced PNG over maxPixels, which cannot be read in bands', async () => {
    const pixels = seededBytes(200 * 100 * 3, 4);
    const interlaced = await sharp(pixels, { raw: { width: 200, height: 100, channels: 3 } })
      .png({ progressive: true })
      .toBuffer();
    const error = await rejection(decodeImageBytes(interlaced, { maxPixels: 10_000 }));
    expect(error.code).toBe('E_IMAGE_TOO_LARGE');
    expect(error.message).toMatch(/200x100.*maxPixels/);

    const whole = await decodeImageBytes(interlaced, { maxPixels: 20_000 });
    expect(Buffer.from(whole.data).equals(Buffer.from(pixels))).toBe(true);
  });

  it('refuses an image whose header is over maxInputPixels before reading its pixels', async () => {
    const error = await rejection(decodeImageBytes(headerOnlyPng(100_000, 100_000)));
    expect(error.code).toBe('E_IMAGE_TOO_LARGE');
    expect(error.message).toMatch(/100000x100000 \(10000\.0 megapixels\).*maxInputPixels/);
  });

  it('rejects limits that are not whole positive numbers', async () => {
    const png = solidPng(2, 2, [0, 0, 0]);
    for (const maxPixels of [0, -5, 1.5, Number.NaN]) {
      expect((await rejection(decodeImageBytes(png, { maxPixels }))).code).toBe('E_IMAGE_OPTION');
    }
  });
});

describe('image errors', () => {
  it('names a missing file', async () => {
    const error = await rejection(decodeImageFile(join(dir, 'nope.png')));
    expect(error.code).toBe('E_INPUT_NOT_FOUND');
    expect(error.message).toContain('nope.png');
  });

  it('refuses a directory', async () => {
    expect((await rejection(decodeImageFile(dir))).code).toBe('E_INPUT_NOT_A_FILE');
  });

  it('says a text file is not an image', async () => {
    const path = join(dir, 'notes.png');
    await writeFile(path, 'just some text, not pixels\n');
    const error = await rejection(decodeImageFile(path));
    expect(error.code).toBe('E_IMAGE_DECODE');
    expect(error.message).toMatch(/notes\.png is not an image/);
  });

  it('refuses empty bytes and a truncated PNG', async () => {
    expect((await rejection(decodeImageBytes(new Uint8Array()))).code).toBe('E_IMAGE_DECODE');
    const png = encodePng(64, 64, 3, seededBytes(64 * 64 * 3, 5));
    const error = await rejection(decodeImageBytes(png.subarray(0, Math.floor(png.length * 0.6))));
    expect(error.code).toBe('E_IMAGE_DECODE');
  });
});
