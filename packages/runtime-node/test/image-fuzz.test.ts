import { crc32 } from 'node:zlib';
import { isShortvError } from '@shortv/tensor';
import fc from 'fast-check';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeImageBytes } from '../src/image.ts';
import { encodePng, solidPng } from './png.ts';

const W = 12;
const H = 10;
const sources: Record<'png' | 'jpeg' | 'webp', Uint8Array> = {
  png: new Uint8Array(0),
  jpeg: new Uint8Array(0),
  webp: new Uint8Array(0),
};

beforeAll(async () => {
  const pixels = Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 37) % 256);
  sources.png = encodePng(W, H, 3, pixels);
  const raw = sharp(Buffer.from(pixels), { raw: { width: W, height: H, channels: 3 } });
  sources.jpeg = new Uint8Array(await raw.clone().jpeg({ quality: 80 }).toBuffer());
  sources.webp = new Uint8Array(await raw.clone().webp().toBuffer());
});

type Edit =
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'cut'; at: number; length: number }
  | { kind: 'insert'; at: number; bytes: number[] };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 16 }),
  }),
);

function apply(bytes: Uint8Array, edits: readonly Edit[]): Uint8Array {
  let out = [...bytes];
  for (const e of edits) {
    const at = e.at % (out.length + 1);
    if (e.kind === 'set') out[Math.min(at, out.length - 1)] = e.byte;
    else if (e.kind === 'cut') out = [...out.slice(0, at), ...out.slice(at + e.length)];
    else out = [...out.slice(0, at), ...e.bytes, ...out.slice(at)];
  }
  return Uint8Array.from(out);
}

/**
 * Decodes within a time limit (a hang guard with room for a loaded 2-core machine; the slow mutants this
 * found took 12 s and are now refused in milliseconds): an image whose size and pixels agree, or a typed
 * error.
 */
async function checkDecode(bytes: Uint8Array): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('decode did not finish within 30 s')), 30_000);
  });
  try {
    const image = await Promise.race([decodeImageBytes(bytes, { name: 'fuzzed image' }), limit]);
    expect(image.width).toBeGreaterThan(0);
    expect(image.height).toBeGreaterThan(0);
    expect(image.data.length).toBe(image.width * image.height * 3);
  } catch (error) {
    if (!(isShortvError(error) && (error.code.startsWith('E_IMAGE') || error.code.startsWith('E_INPUT')))) {
      throw error;
    }
  } finally {
    clearTimeout(timer);
  }
}

describe('image decoding of mutated bytes', () => {
  for (const format of ['png', 'jpeg', 'webp'] as const) {
    it(`${format}: a consistent image or a typed error, never a hang or crash`, async () => {
      await checkDecode(sources[format]);
      await fc.assert(
        fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 6 }), (edits) =>
          checkDecode(apply(sources[format], edits)),
        ),
        { numRuns: 300 },
      );
    }, 120_000);
  }

  it('png: any width and height in a header with a valid checksum', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.nat(), async (width, height) => {
        const bytes = Uint8Array.from(sources.png);
        const view = new DataView(bytes.buffer);
        view.setUint32(16, width);
        view.setUint32(20, height);
        view.setUint32(29, crc32(bytes.subarray(12, 29)));
        await checkDecode(bytes);
      }),
      { numRuns: 200 },
    );
  }, 120_000);

  it('arbitrary bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), (bytes) => checkDecode(bytes)),
      { numRuns: 300 },
    );
  }, 60_000);
});

describe('decode limits found by fuzzing', () => {
  it('refuses at once a PNG whose header claims more pixels than its bytes can hold', async () => {
    const bytes = Uint8Array.from(sources.png);
    const view = new DataView(bytes.buffer);
    view.setUint32(16, 6_094_860); // a mutated width byte: 6094860x10 in 357 bytes
    view.setUint32(29, crc32(bytes.subarray(12, 29)));
    const started = performance.now();
    await expect(decodeImageBytes(bytes)).rejects.toMatchObject({
      code: 'E_IMAGE_DECODE',
      message: expect.stringContaining('its header says 6094860x10, more than its 357 bytes can hold'),
    });
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('stops a decode that runs past timeoutSeconds with a typed error', async () => {
    // 400 megapixels, downscaled while read: about 12 s on 2 cores, so 1 s always runs out.
    const huge = solidPng(20_000, 20_000, [10, 200, 30]);
    await expect(decodeImageBytes(huge, { timeoutSeconds: 1 })).rejects.toMatchObject({
      code: 'E_IMAGE_TIMEOUT',
      message: expect.stringMatching(/took more than 1 s to decode \(timeout: \d+% complete\)/),
    });
  }, 60_000);
});
