import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Resample, resizeImage, resizeShortestEdge, ShortvError, shortestEdgeSize } from '../src/index.ts';
import { PIL_RESIZE_CASES } from './fixtures/pil-resize.ts';
import { firstChannel, fromHex, grey, referenceBicubic, testImage } from './image-helpers.ts';

describe('resizeImage (PIL semantics)', () => {
  it('upscales a 2-pixel row by hand-computed bicubic weights', () => {
    // Output centres 0.25, 0.75, 1.25, 1.75; kernel a=-0.5 gives taps
    // (0.8671875, -0.0703125) / 0.796875 -> 100 * -0.0882 -> clamps to 0,
    // (0.8671875, 0.2265625) / 1.09375 -> 20.71 -> 21, mirrored 79.29 -> 79, 108.82 -> 109.
    const out = resizeImage(grey([0, 100], 2, 1), 4, 1, Resample.BICUBIC);
    expect(firstChannel(out)).toEqual([0, 21, 79, 109]);
  });

  it('downscales a 4-pixel row with the kernel stretched by the scale factor', () => {
    // Scale 2, support 4: weights at (-0.25, 0.25, 0.75, 1.25) = (0.8671875, 0.8671875, 0.2265625,
    // -0.0703125), sum 1.890625: (86.71875 + 45.3125 - 2.8125) / 1.890625 = 68.35 -> 68, and
    // mirrored (22.65625 + 173.4375 + 34.6875) / 1.890625 = 122.06 -> 122.
    const out = resizeImage(grey([0, 100, 200, 40], 4, 1), 2, 1, Resample.BICUBIC);
    expect(firstChannel(out)).toEqual([68, 122]);
  });

  it('upscales a 2-pixel column the same way as a row (vertical pass)', () => {
    const out = resizeImage(grey([0, 100], 1, 2), 1, 4, Resample.BICUBIC);
    expect(firstChannel(out)).toEqual([0, 21, 79, 109]);
  });

  it('bilinear upscale of a 2-pixel row: weights 1-|t|', () => {
    // centres 0.25 and 0.75 relative to samples at 0.5 and 1.5: 0 and 25, 75, 100 at the ends.
    const out = resizeImage(grey([0, 100], 2, 1), 4, 1, Resample.BILINEAR);
    expect(firstChannel(out)).toEqual([0, 25, 75, 100]);
  });

  for (const c of PIL_RESIZE_CASES) {
    it(`matches PIL 9.4: ${c.name}`, () => {
      const out = resizeImage(testImage(c.source, c.width, c.height), c.outWidth, c.outHeight, c.resample);
      expect(out.width).toBe(c.outWidth);
      expect(out.height).toBe(c.outHeight);
      expect(Array.from(out.data)).toEqual(Array.from(fromHex(c.hex)));
    });
  }

  it('agrees with the independent reference on random images and sizes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 14 }),
        fc.integer({ min: 1, max: 14 }),
        fc.infiniteStream(fc.integer({ min: 0, max: 255 })),
        (w, h, ow, oh, values) => {
          const data = Uint8Array.from(values.take(w * h * 3));
          const img = { width: w, height: h, data };
          expect(Array.from(resizeImage(img, ow, oh).data)).toEqual(
            Array.from(referenceBicubic(img, ow, oh)),
          );
        },
      ),
      { numRuns: 300, seed: 20240601 },
    );
  });

  it('returns an equal copy when the size already matches', () => {
    const img = testImage('pattern', 5, 3);
    const out = resizeImage(img, 5, 3);
    expect(Array.from(out.data)).toEqual(Array.from(img.data));
    expect(out.data).not.toBe(img.data);
  });

  it('refuses NEAREST and unknown filters, and bad sizes', () => {
    const img = testImage('pattern', 2, 2);
    expect(() => resizeImage(img, 3, 3, Resample.NEAREST)).toThrow(
      expect.objectContaining({ code: 'E_IMAGE_RESAMPLE' }),
    );
    expect(() => resizeImage(img, 0, 3)).toThrow(expect.objectContaining({ code: 'E_IMAGE_SIZE' }));
    expect(() => resizeImage({ width: 2, height: 2, data: new Uint8Array(5) }, 3, 3)).toThrow(ShortvError);
  });
});

describe('shortest edge sizing (transformers get_resize_output_image_size)', () => {
  it('truncates the long edge: int(size * long / short)', () => {
    expect(shortestEdgeSize(640, 480, 224)).toEqual({ width: 298, height: 224 }); // 298.67
    expect(shortestEdgeSize(480, 640, 224)).toEqual({ width: 224, height: 298 });
    expect(shortestEdgeSize(500, 500, 224)).toEqual({ width: 224, height: 224 });
    expect(shortestEdgeSize(6, 4, 3)).toEqual({ width: 4, height: 3 }); // 4.5
    expect(shortestEdgeSize(1000, 3, 336)).toEqual({ width: 112000, height: 336 });
  });

  it('resizeShortestEdge applies it', () => {
    const out = resizeShortestEdge(testImage('pattern', 6, 4), 3);
    const c = PIL_RESIZE_CASES.find((x) => x.name.startsWith('shortest edge'))!;
    expect([out.width, out.height]).toEqual([4, 3]);
    expect(Array.from(out.data)).toEqual(Array.from(fromHex(c.hex)));
  });
});
