import { ShortvError } from '../errors.ts';
import { Tensor } from '../tensor.ts';
import { headerLength, parseHeader, type SafetensorsTensorInfo } from './header.ts';
import { type ByteSource, readExactly } from './source.ts';

/** What both a single file and a sharded set offer: names up front, tensors on demand. */
export interface TensorStore {
  readonly names: readonly string[];
  has(name: string): boolean;
  read(name: string): Promise<Tensor>;
  close(): Promise<void>;
}

export interface SafetensorsFile extends TensorStore {
  /** Tensor names in the order their data lies in the file. */
  readonly names: readonly string[];
  readonly metadata: Readonly<Record<string, string>>;
  /** dtype, shape and data offsets of one tensor, from the header alone. */
  info(name: string): SafetensorsTensorInfo;
}

export function notFound(name: string, where: string): ShortvError {
  return new ShortvError('E_SAFETENSORS_NOT_FOUND', `tensor '${name}' is not in ${where}`);
}

/**
 * Opens a safetensors file lazily: reads the 8-byte length and the JSON header, validates them, and
 * reads each tensor's bytes only when `read` asks for it.
 */
export async function openSafetensors(
  source: ByteSource,
  label = 'the safetensors file',
): Promise<SafetensorsFile> {
  const prefix = await source.read(0, Math.min(8, source.size));
  const length = headerLength(prefix, source.size);
  const headerBytes = await readExactly(source, 8, length, `the header of ${label}`);
  const header = parseHeader(headerBytes, source.size);
  const names = Object.freeze([...header.tensors.keys()]);

  const info = (name: string): SafetensorsTensorInfo => {
    const entry = header.tensors.get(name);
    if (entry === undefined) throw notFound(name, label);
    return entry;
  };

  return {
    names,
    metadata: Object.freeze(header.metadata),
    has: (name) => header.tensors.has(name),
    info: (name) => {
      const entry = info(name);
      return { ...entry, shape: [...entry.shape] };
    },
    async read(name) {
      const entry = info(name);
      const bytes = await readExactly(
        source,
        header.dataStart + entry.begin,
        entry.end - entry.begin,
        `tensor '${name}'`,
      );
      return Tensor.fromBytes(entry.dtype, bytes, entry.shape);
    },
    close: async () => {
      await source.close?.();
    },
  };
}
