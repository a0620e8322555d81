import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COLORS, contentSplit, generateScene, SHAPES, SIZES, SPLITS, type Split } from '../src/index.ts';

const keyArb = fc.record({
  split: fc.constantFrom<Split>(...SPLITS),
  seed: fc.integer({ min: 0, max: 0xffffffff }),
  index: fc.integer({ min: 0, max: 999_999 }),
});

describe('generateScene', () => {
  it('obeys the layout contract for any key', () => {
    fc.assert(
      fc.property(keyArb, (key) => {
        const scene = generateScene(key);
        expect(scene.objects.length).toBeGreaterThanOrEqual(1);
        expect(scene.objects.length).toBeLessThanOrEqual(6);
        const cells = scene.objects.map((o) => o.row * 3 + o.col);
        expect(new Set(cells).size).toBe(cells.length);
        expect(cells).toEqual([...cells].sort((a, b) => a - b));
        for (const o of scene.objects) {
          expect(SHAPES).toContain(o.shape);
          expect(COLORS).toContain(o.color);
          expect(SIZES).toContain(o.size);
          expect([0, 1, 2]).toContain(o.row);
          expect([0, 1, 2]).toContain(o.col);
          expect(Math.abs(o.cx - (o.col * 24 + 12))).toBeLessThanOrEqual(1);
          expect(Math.abs(o.cy - (o.row * 24 + 12))).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('names the sample by split, seed and six-digit index', () => {
    expect(generateScene({ split: 'calibration', seed: 12, index: 34 }).id).toBe('calibration-12-000034');
  });

  it('is a pure function of the key', () => {
    fc.assert(
      fc.property(keyArb, (key) => {
        expect(generateScene(key)).toEqual(generateScene(key));
      }),
    );
  });

  it('keeps each scene content in its own split, so splits never share a scene', () => {
    fc.assert(
      fc.property(keyArb, (key) => {
        expect(contentSplit(generateScene(key).objects)).toBe(key.split);
      }),
      { numRuns: 300 },
    );
  });

  it('draws different scenes for different splits with the same seed and index', () => {
    for (let index = 0; index < 50; index++) {
      const layouts = SPLITS.map((split) =>
        JSON.stringify(generateScene({ split, seed: 3, index }).objects.map(({ cx, cy, ...rest }) => rest)),
      );
      expect(new Set(layouts).size).toBe(3);
    }
  });

  it('covers every object count, shape, colour, size and cell', () => {
    const seen = {
      n: new Set<number>(),
      shape: new Set(),
      color: new Set(),
      size: new Set(),
      cell: new Set(),
    };
    for (let index = 0; index < 400; index++) {
      const scene = generateScene({ split: 'train', seed: 0, index });
      seen.n.add(scene.objects.length);
      for (const o of scene.objects) {
        seen.shape.add(o.shape);
        seen.color.add(o.color);
        seen.size.add(o.size);
        seen.cell.add(o.row * 3 + o.col);
      }
    }
    expect([...seen.n].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(seen.shape.size).toBe(4);
    expect(seen.color.size).toBe(6);
    expect(seen.size.size).toBe(2);
    expect(seen.cell.size).toBe(9);
  });

  it('scales centres with the image size', () => {
    const small = generateScene({ split: 'test', seed: 5, index: 9, size: 72 });
    const big = generateScene({ split: 'test', seed: 5, index: 9, size: 144 });
    expect(big.objects.map((o) => [o.shape, o.color, o.size, o.row, o.col])).toEqual(
      small.objects.map((o) => [o.shape, o.color, o.size, o.row, o.col]),
    );
    for (const o of big.objects) expect(Math.abs(o.cx - (o.col * 48 + 24))).toBeLessThanOrEqual(1);
  });

  it('rejects bad keys with stable codes', () => {
    expect(() => generateScene({ split: 'dev' as Split, seed: 0, index: 0 })).toThrow(
      expect.objectContaining({ code: 'E_INPUT_SPLIT' }),
    );
    expect(() => generateScene({ split: 'train', seed: -1, index: 0 })).toThrow(
      expect.objectContaining({ code: 'E_INPUT_SEED' }),
    );
    expect(() => generateScene({ split: 'train', seed: 0, index: 1.5 })).toThrow(
      expect.objectContaining({ code: 'E_INPUT_INDEX' }),
    );
    expect(() => generateScene({ split: 'train', seed: 0, index: 0, size: 73 })).toThrow(
      expect.objectContaining({ code: 'E_INPUT_SIZE' }),
    );
  });
});
