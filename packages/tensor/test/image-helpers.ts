import type { RgbImage } from '../src/index.ts';

/** The deterministic test images the PIL fixtures were made from. */
export function testImage(kind: 'pattern' | 'checker', width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 3;
      if (kind === 'pattern') {
        for (let c = 0; c < 3; c++) data[at + c] = (x * 37 + y * 91 + c * 53 + x * y * 17) % 256;
      } else {
        const v = (x + y) % 2 ? 255 : 0;
        data.set([v, 255 - v, v], at);
      }
    }
  }
  return { width, height, data };
}

export function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (byte) => Number.parseInt(byte, 16));
}

/**
 * A second, deliberately plain reading of PIL's 8-bit resampling, kept apart from the library code:
 * per output sample, weight every input sample by the cubic kernel (a = -0.5) stretched by the
 * downscale factor over the taps PIL selects, normalise, round the weights to 22-bit fixed point
 * away from zero, sum with a half-unit bias and clamp. Rows first, then columns.
 */
function cubic(t: number): number {
  const x = Math.abs(t);
  if (x < 1) return 1.5 * x ** 3 - 2.5 * x ** 2 + 1;
  if (x < 2) return -0.5 * x ** 3 + 2.5 * x ** 2 - 4 * x + 2;
  return 0;
}

function resample1d(line: number[], outSize: number): number[] {
  const inSize = line.length;
  if (outSize === inSize) return line;
  const scale = inSize / outSize;
  const stretch = Math.max(1, scale);
  const reach = 2 * stretch;
  return Array.from({ length: outSize }, (_, o) => {
    const center = (o + 0.5) * scale;
    const first = Math.max(0, Math.trunc(center - reach + 0.5));
    const last = Math.min(inSize, Math.trunc(center + reach + 0.5));
    const taps = [];
    for (let i = first; i < last; i++) taps.push({ i, w: cubic((i - center + 0.5) * (1 / stretch)) });
    const total = taps.reduce((s, t) => s + t.w, 0);
    let acc = 2 ** 21;
    for (const { i, w } of taps) {
      const scaled = (w / total) * 2 ** 22;
      acc += line[i]! * (scaled < 0 ? Math.ceil(scaled - 0.5) : Math.floor(scaled + 0.5));
    }
    return Math.min(255, Math.max(0, Math.floor(acc / 2 ** 22)));
  });
}

export function referenceBicubic(img: RgbImage, outWidth: number, outHeight: number): Uint8Array {
  const rows: number[][][] = [];
  for (let y = 0; y < img.height; y++) {
    const channels = [0, 1, 2].map((c) =>
      resample1d(
        Array.from({ length: img.width }, (_, x) => img.data[(y * img.width + x) * 3 + c]!),
        outWidth,
      ),
    );
    rows.push(channels);
  }
  const out = new Uint8Array(outWidth * outHeight * 3);
  for (let x = 0; x < outWidth; x++) {
    for (let c = 0; c < 3; c++) {
      const column = resample1d(
        rows.map((row) => row[c]![x]!),
        outHeight,
      );
      column.forEach((v, y) => {
        out[(y * outWidth + x) * 3 + c] = v;
      });
    }
  }
  return out;
}

export function grey(values: number[], width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  values.forEach((v, i) => {
    data.fill(v, i * 3, i * 3 + 3);
  });
  return { width, height, data };
}

export function firstChannel(img: RgbImage): number[] {
  return Array.from({ length: img.width * img.height }, (_, i) => img.data[i * 3]!);
}
