import type { ByteSource, Tensor } from '../src/index.ts';

/** Elements of a tensor of any dtype as a plain array, for comparisons. */
export function values(t: Tensor): Array<number | bigint> {
  return Array.from(t.data as ArrayLike<number | bigint>);
}

/** A file made by hand: 8-byte little-endian header length, the header text, then the data bytes. */
export function craft(header: string, data: Uint8Array | number[] = [], declaredLength?: number): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  const view = new DataView(out.buffer);
  const length = declaredLength ?? json.length;
  view.setUint32(0, length % 2 ** 32, true);
  view.setUint32(4, Math.floor(length / 2 ** 32), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

export function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

/** An in-memory source that records every read, to prove what was (not) read. */
export function countingSource(bytes: Uint8Array): ByteSource & { reads: Array<[number, number]> } {
  const reads: Array<[number, number]> = [];
  return {
    size: bytes.length,
    reads,
    async read(offset, length) {
      reads.push([offset, length]);
      return bytes.slice(offset, offset + length);
    },
  };
}
