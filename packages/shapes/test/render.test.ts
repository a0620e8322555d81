import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BACKGROUND_RGB,
  COLOR_RGB,
  decodePng,
  encodePng,
  generateSamplePng,
  generateScene,
  objectHalfExtent,
  renderScene,
  type Scene,
  type SceneObject,
  SPLITS,
  type Split,
} from '../src/index.ts';

const keyArb = fc.record({
  split: fc.constantFrom<Split>(...SPLITS),
  seed: fc.integer({ min: 0, max: 0xffffffff }),
  index: fc.integer({ min: 0, max: 999_999 }),
  size: fc.constantFrom(72, 48, 96, 30),
});

function pixel(data: Uint8Array, width: number, x: number, y: number): number[] {
  const p = (y * width + x) * 3;
  return [data[p] as number, data[p + 1] as number, data[p + 2] as number];
}

/** Coverage of one pixel recovered from the channel where the object and background differ most. */
function coverage(rgb: number[], object: SceneObject): number {
  const fg = COLOR_RGB[object.color];
  let best = 0;
  for (let c = 1; c < 3; c++) {
    if (Math.abs(fg[c]! - BACKGROUND_RGB[c]!) > Math.abs(fg[best]! - BACKGROUND_RGB[best]!)) best = c;
  }
  return (rgb[best]! - BACKGROUND_RGB[best]!) / (fg[best]! - BACKGROUND_RGB[best]!);
}

function exactArea(object: SceneObject, imageSize: number): number {
  const r = objectHalfExtent(object, imageSize);
  switch (object.shape) {
    case 'circle':
      return Math.PI * r * r;
    case 'square':
      return 4 * r * r;
    case 'triangle':
    case 'diamond':
      return 2 * r * r;
  }
}

describe('renderScene', () => {
  it('paints each object centre in its colour and each empty cell centre in the background', () => {
    fc.assert(
      fc.property(keyArb, (key) => {
        const scene = generateScene(key);
        const image = renderScene(scene);
        expect(image.width).toBe(key.size);
        expect(image.height).toBe(key.size);
        expect(image.data.length).toBe(key.size * key.size * 3);
        const cell = key.size / 3;
        for (let row = 0; row < 3; row++) {
          for (let col = 0; col < 3; col++) {
            const object = scene.objects.find((o) => o.row === row && o.col === col);
            const x = Math.floor(object ? object.cx : col * cell + cell / 2);
            const y = Math.floor(object ? object.cy : row * cell + cell / 2);
            expect(pixel(image.data, image.width, x, y)).toEqual([
              ...(object ? COLOR_RGB[object.color] : BACKGROUND_RGB),
            ]);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps every painted pixel inside its object cell', () => {
    fc.assert(
      fc.property(keyArb, (key) => {
        const scene = generateScene(key);
        const image = renderScene(scene);
        const cell = key.size / 3;
        for (let y = 0; y < key.size; y++) {
          for (let x = 0; x < key.size; x++) {
            const rgb = pixel(image.data, image.width, x, y);
            if (rgb.every((v, c) => v === BACKGROUND_RGB[c])) continue;
            const row = Math.floor(y / cell);
            const col = Math.floor(x / cell);
            expect(scene.objects.some((o) => o.row === row && o.col === col)).toBe(true);
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('covers each shape with its geometric area and anti-aliases its edges', () => {
    let partial = 0;
    for (let index = 0; index < 40; index++) {
      const scene: Scene = generateScene({ split: 'train', seed: 11, index, size: 96 });
      const image = renderScene(scene);
      const cell = 32;
      for (const object of scene.objects) {
        let sum = 0;
        for (let y = object.row * cell; y < (object.row + 1) * cell; y++) {
          for (let x = object.col * cell; x < (object.col + 1) * cell; x++) {
            const a = coverage(pixel(image.data, image.width, x, y), object);
            if (a > 0.05 && a < 0.95) partial++;
            sum += a;
          }
        }
        const area = exactArea(object, 96);
        expect(Math.abs(sum - area) / area).toBeLessThan(0.06);
      }
    }
    expect(partial).toBeGreaterThan(100);
  });

  it('tells shapes apart: a square covers more of its box than a circle, a circle more than a diamond', () => {
    const base = { color: 'red', size: 'large', row: 1, col: 1, cx: 36, cy: 36 } as const;
    const filled = (shape: SceneObject['shape']) => {
      const image = renderScene({
        id: 'x',
        split: 'train',
        seed: 0,
        index: 0,
        size: 72,
        objects: [{ ...base, shape }],
      });
      let n = 0;
      for (let p = 0; p < image.data.length; p += 3) if (image.data[p + 1] !== BACKGROUND_RGB[1]) n++;
      return n;
    };
    expect(filled('square')).toBeGreaterThan(filled('circle'));
    expect(filled('circle')).toBeGreaterThan(filled('diamond'));
  });
});

describe('PNG', () => {
  it('round-trips the pixels', () => {
    const image = renderScene(generateScene({ split: 'test', seed: 2, index: 5 }));
    const decoded = decodePng(encodePng(image));
    expect(decoded.width).toBe(72);
    expect(decoded.height).toBe(72);
    expect(Buffer.from(decoded.data).equals(Buffer.from(image.data))).toBe(true);
  });

  it('produces byte-identical files for the same key and different files for another split', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1000 }), (seed, index) => {
        const a = generateSamplePng({ split: 'train', seed, index }).png;
        const b = generateSamplePng({ split: 'train', seed, index }).png;
        const c = generateSamplePng({ split: 'test', seed, index }).png;
        expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
        expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
      }),
      { numRuns: 30 },
    );
  });

  it('rejects bytes that are not a PNG', () => {
    expect(() => decodePng(new Uint8Array([1, 2, 3, 4]))).toThrow(
      expect.objectContaining({ code: 'E_IMAGE_PNG' }),
    );
  });

  it('rejects image data of the wrong length', () => {
    expect(() => encodePng({ width: 2, height: 2, data: new Uint8Array(11) })).toThrow(
      expect.objectContaining({ code: 'E_IMAGE_SHAPE' }),
    );
  });
});
