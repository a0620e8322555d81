import { ShortvError } from '../errors.ts';

/**
 * Random access to the bytes of one file: a local file, an HTTP range reader, an OPFS handle or a
 * buffer. `read` resolves with exactly `length` bytes unless the source ends early.
 */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  close?(): Promise<void>;
}

/**
 * A source over bytes already in memory. Reads return views, not copies, so tensors read from it
 * share memory with `bytes` where alignment allows.
 */
export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.byteLength,
    read(offset: number, length: number): Promise<Uint8Array> {
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
        return Promise.reject(
          new ShortvError('E_SOURCE_RANGE', `invalid read of ${length} bytes at ${offset}`),
        );
      }
      return Promise.resolve(bytes.subarray(offset, offset + length));
    },
  };
}

/** Reads exactly `length` bytes or fails with a message naming what was being read. */
export async function readExactly(
  source: ByteSource,
  offset: number,
  length: number,
  what: string,
): Promise<Uint8Array> {
  const bytes = await source.read(offset, length);
  if (bytes.length !== length) {
    throw new ShortvError(
      'E_SAFETENSORS_READ',
      `reading ${what}: expected ${length} bytes at offset ${offset}, the source returned ${bytes.length} (file truncated or changed?)`,
    );
  }
  return bytes;
}
