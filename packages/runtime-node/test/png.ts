import { constants, crc32, deflateRawSync, deflateSync } from 'node:zlib';

/*
 * A PNG writer independent of the decoder under test, so decoded pixels are checked against bytes this
 * file chose, and a solid image of any size can be written without holding its pixels in memory.
 */
const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
const COLOR_TYPE: Record<number, number> = { 1: 0, 2: 4, 3: 2, 4: 6 };

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function header(width: number, height: number, channels: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = COLOR_TYPE[channels]!;
  return chunk('IHDR', ihdr);
}

/** An 8-bit PNG (channels 1 = grey, 2 = grey+alpha, 3 = RGB, 4 = RGBA), rows unfiltered. */
export function encodePng(width: number, height: number, channels: number, pixels: Uint8Array): Uint8Array {
  const stride = width * channels;
  const raw = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++)
    raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  return Buffer.concat([
    SIGNATURE,
    header(width, height, channels),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array()),
  ]);
}

/** A PNG whose header claims width x height but whose pixel data is cut short. */
export function headerOnlyPng(width: number, height: number): Uint8Array {
  return Buffer.concat([SIGNATURE, header(width, height, 3), chunk('IDAT', deflateSync(new Uint8Array(16)))]);
}

const ADLER_MOD = 65521;

/**
 * A width x height RGB PNG of one colour, built from deflate blocks compressed once and repeated: the
 * first row is stored as is, every other row with the Up filter (all zeros). Each block is compressed
 * with a full flush, so it never refers back into its neighbours and copies can be concatenated.
 */
export function solidPng(width: number, height: number, rgb: readonly [number, number, number]): Uint8Array {
  const stride = width * 3;
  const first = new Uint8Array(stride + 1);
  for (let x = 0; x < width; x++) first.set(rgb, 1 + 3 * x);
  const rowsPerBlock = 64;
  const zeroRows = new Uint8Array((stride + 1) * rowsPerBlock);
  for (let r = 0; r < rowsPerBlock; r++) zeroRows[r * (stride + 1)] = 2;
  const flush = { finishFlush: constants.Z_FULL_FLUSH };
  const firstBlock = deflateRawSync(first, flush);
  const fullBlock = deflateRawSync(zeroRows, flush);
  const rest = (height - 1) % rowsPerBlock;
  const restBlock = deflateRawSync(zeroRows.subarray(0, rest * (stride + 1)), flush);

  let a = 1;
  let b = 0;
  for (const byte of first) {
    a = (a + byte) % ADLER_MOD;
    b = (b + a) % ADLER_MOD;
  }
  for (let y = 1; y < height; y++) {
    a = (a + 2) % ADLER_MOD; // the filter byte; the zero bytes after it leave `a` unchanged
    b = (b + a + ((a * stride) % ADLER_MOD)) % ADLER_MOD;
  }
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE(((b << 16) | a) >>> 0);

  const parts: Uint8Array[] = [Uint8Array.of(0x78, 0x9c), firstBlock];
  for (let i = 0; i < Math.floor((height - 1) / rowsPerBlock); i++) parts.push(fullBlock);
  parts.push(restBlock, Uint8Array.of(0x03, 0x00), adler); // 0x03 0x00: an empty final fixed-Huffman block
  return Buffer.concat([
    SIGNATURE,
    header(width, height, 3),
    chunk('IDAT', Buffer.concat(parts)),
    chunk('IEND', new Uint8Array()),
  ]);
}
