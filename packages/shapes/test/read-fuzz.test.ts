import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { isShortvError } from '@shortv/tensor';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePng, encodePng } from '../src/index.ts';
import { readShapesDataset, writeShapesDataset } from '../src/node/index.ts';

let root: string;
let dataset: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'shortv-shapes-fuzz-'));
  dataset = join(root, 'original');
  await writeShapesDataset({ outDir: dataset, count: 2, seed: 3, split: 'calibration', size: 30 });
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A typed error of one of `prefixes`, or rethrow. */
function expectTyped(error: unknown, prefixes: string[]): void {
  if (!(isShortvError(error) && prefixes.some((p) => error.code.startsWith(p)))) throw error;
}

const textEdit = fc.tuple(fc.nat(), fc.nat(12), fc.string({ maxLength: 8 }));

function applyText(text: string, edits: readonly [number, number, string][]): string {
  let out = text;
  for (const [at, cut, insert] of edits) {
    const i = at % (out.length + 1);
    out = out.slice(0, i) + insert + out.slice(i + cut);
  }
  return out;
}

describe('shapes dataset files under fuzzing', () => {
  for (const file of ['manifest.json', 'scenes.jsonl', 'data.jsonl']) {
    it(`${file}: a consistent dataset or a typed E_DATA error`, () => {
      const original = readFileSync(join(dataset, file), 'utf8');
      const copy = join(root, `copy-${file}`);
      cpSync(dataset, copy, { recursive: true });
      fc.assert(
        fc.property(fc.array(textEdit, { minLength: 1, maxLength: 4 }), (edits) => {
          writeFileSync(join(copy, file), applyText(original, edits));
          try {
            const ds = readShapesDataset(copy);
            expect(ds.scenes.length).toBe(ds.manifest.count);
            for (const q of ds.questions) expect(ds.scenes.some((s) => s.id === q.imageId)).toBe(true);
          } catch (error) {
            expectTyped(error, ['E_DATA']);
          }
        }),
        { numRuns: 1500 },
      );
    });
  }
});

describe('decodePng under fuzzing', () => {
  const image = { width: 6, height: 5, data: Uint8Array.from({ length: 90 }, (_, i) => (i * 29) % 256) };
  const png = encodePng(image);

  function checkDecode(bytes: Uint8Array): void {
    try {
      const out = decodePng(bytes);
      expect(out.width).toBeGreaterThan(0);
      expect(out.height).toBeGreaterThan(0);
      expect(out.data.length).toBe(out.width * out.height * 3);
    } catch (error) {
      expectTyped(error, ['E_IMAGE']);
    }
  }

  it('mutated bytes: an image or a typed error', () => {
    const byteEdit = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat(3));
    fc.assert(
      fc.property(fc.array(byteEdit, { minLength: 1, maxLength: 6 }), (edits) => {
        const bytes = [...png];
        for (const [at, value, mode] of edits) {
          const i = at % bytes.length;
          if (mode === 0) bytes.splice(i, 1);
          else if (mode === 1) bytes.splice(i, 0, value);
          else bytes[i] = value;
        }
        checkDecode(Uint8Array.from(bytes));
      }),
      { numRuns: 3000 },
    );
  });

  it('any width and height in a header with a valid checksum', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), (width, height) => {
        const bytes = Uint8Array.from(png);
        const view = new DataView(bytes.buffer);
        view.setUint32(16, width);
        view.setUint32(20, height);
        view.setUint32(29, crc32(bytes.subarray(12, 29)));
        checkDecode(bytes);
      }),
      { numRuns: 500 },
    );
  });
});
