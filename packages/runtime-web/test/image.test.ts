import { describe, expect, it } from 'vitest';
import { decodeImage, rgbaToRgb } from '../src/index.ts';

describe('rgbaToRgb', () => {
  it('keeps opaque pixels and composites the others onto white', () => {
    const rgba = Uint8ClampedArray.from([
      10,
      20,
      30,
      255, // opaque: unchanged
      0,
      0,
      0,
      0, // transparent: white
      0,
      0,
      0,
      128, // half-transparent black: mid grey
      200,
      100,
      50,
      51, // 20% opaque
    ]);
    const rgb = rgbaToRgb({ width: 2, height: 2, data: rgba });
    expect(rgb.width).toBe(2);
    expect(rgb.height).toBe(2);
    const grey = Math.round((255 * 127) / 255);
    const mix = (c: number) => Math.round((c * 51 + 255 * 204) / 255);
    expect([...rgb.data]).toEqual([10, 20, 30, 255, 255, 255, grey, grey, grey, mix(200), mix(100), mix(50)]);
  });

  it('refuses pixel data that does not fit the size', () => {
    expect(() => rgbaToRgb({ width: 2, height: 2, data: new Uint8Array(12) })).toThrow(
      expect.objectContaining({
        code: 'E_IMAGE_SHAPE',
        message: expect.stringContaining('needs 16 bytes, got 12'),
      }),
    );
    expect(() => rgbaToRgb({ width: 0, height: 2, data: new Uint8Array(0) })).toThrow(/positive whole size/);
  });
});

describe('decodeImage outside a browser', () => {
  it('says it needs a browser instead of failing blankly', async () => {
    await expect(
      decodeImage(new Blob([new Uint8Array([1, 2, 3])], { type: 'image/png' })),
    ).rejects.toMatchObject({
      code: 'E_IMAGE_DECODE',
      message: expect.stringMatching(/createImageBitmap is not available/),
    });
  });
});
