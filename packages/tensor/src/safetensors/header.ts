import { ShortvError } from '../errors.ts';
import { BYTES_PER_ELEMENT, type DType } from '../tensor.ts';
import { isJsonObject, type JsonValue, parseJsonStrict } from './json.ts';

/** safetensors dtype names this package reads and writes, and the tensor dtype each becomes. */
export const SAFETENSORS_DTYPES = {
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  I64: 'int64',
  I32: 'int32',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
} as const satisfies Record<string, DType>;

export type SafetensorsDType = keyof typeof SAFETENSORS_DTYPES;

export const DTYPE_TO_SAFETENSORS: Readonly<Record<DType, SafetensorsDType>> = {
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL',
};

// Valid in the format but not representable here; named so the error can say "not supported"
// rather than "unknown".
const OTHER_FORMAT_DTYPES = new Set([
  'F64',
  'I16',
  'U16',
  'U32',
  'U64',
  'F8_E4M3',
  'F8_E5M2',
  'F8_E8M0',
  'F4',
  'F6_E2M3',
  'F6_E3M2',
  'C64',
]);

/** The same bound the reference implementation uses; real headers are a few hundred KiB at most. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsTensorInfo {
  name: string;
  dtype: DType;
  shape: number[];
  /** Offsets relative to the start of the data section, end exclusive. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  metadata: Record<string, string>;
  /** In data-offset order. */
  tensors: Map<string, SafetensorsTensorInfo>;
  /** Absolute file offset where the data section starts (8 + header length). */
  dataStart: number;
}

function headerError(message: string): ShortvError {
  return new ShortvError('E_SAFETENSORS_HEADER', `safetensors header: ${message}`);
}

function readHeaderLength(prefix: Uint8Array): number {
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  // Anything with high bits set is far beyond MAX_HEADER_BYTES; keep it as a (large) number.
  return high * 2 ** 32 + low;
}

/** Header length from the first 8 bytes, checked against the file size and the size bound. */
export function headerLength(prefix: Uint8Array, fileSize: number): number {
  if (fileSize < 8 || prefix.length < 8) {
    throw new ShortvError(
      'E_SAFETENSORS_TRUNCATED',
      `safetensors file is ${fileSize} bytes; it needs at least 8 for the header length`,
    );
  }
  const length = readHeaderLength(prefix);
  if (length > fileSize - 8) {
    throw new ShortvError(
      'E_SAFETENSORS_HEADER_LENGTH',
      `safetensors header length ${length} goes beyond the end of the ${fileSize}-byte file (truncated or not a safetensors file)`,
    );
  }
  if (length > MAX_HEADER_BYTES) {
    throw new ShortvError(
      'E_SAFETENSORS_HEADER_LENGTH',
      `safetensors header length ${length} exceeds the ${MAX_HEADER_BYTES}-byte limit`,
    );
  }
  return length;
}

function nonNegativeInt(value: JsonValue | undefined): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function parseEntry(name: string, entry: JsonValue): SafetensorsTensorInfo {
  if (!isJsonObject(entry)) throw headerError(`entry for tensor '${name}' is not an object`);
  const { dtype, shape, data_offsets: offsets } = entry;
  if (typeof dtype !== 'string') throw headerError(`tensor '${name}' has no dtype string`);
  if (!Array.isArray(shape) || !shape.every(nonNegativeInt)) {
    throw headerError(
      `tensor '${name}' needs a shape of non-negative integers, got ${JSON.stringify(shape)}`,
    );
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(nonNegativeInt)) {
    throw headerError(
      `tensor '${name}' needs data_offsets [begin, end] of non-negative integers, got ${JSON.stringify(offsets)}`,
    );
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) {
    throw new ShortvError(
      'E_SAFETENSORS_OFFSETS',
      `tensor '${name}' has data_offsets [${begin}, ${end}] with begin after end`,
    );
  }
  if (!Object.hasOwn(SAFETENSORS_DTYPES, dtype)) {
    const why = OTHER_FORMAT_DTYPES.has(dtype) ? 'is not supported' : 'is not a safetensors dtype';
    throw new ShortvError(
      'E_SAFETENSORS_DTYPE',
      `tensor '${name}' has dtype ${JSON.stringify(dtype)}, which ${why}; supported: ${Object.keys(SAFETENSORS_DTYPES).join(', ')}`,
    );
  }
  const tensorDtype = SAFETENSORS_DTYPES[dtype as SafetensorsDType];
  let bytes = BYTES_PER_ELEMENT[tensorDtype];
  for (const d of shape as number[]) bytes *= d;
  if (bytes !== end - begin) {
    throw new ShortvError(
      'E_SAFETENSORS_SHAPE',
      `tensor '${name}' is ${dtype} [${shape.join(', ')}], which needs ${bytes} bytes, but data_offsets [${begin}, ${end}] hold ${end - begin}`,
    );
  }
  return { name, dtype: tensorDtype, shape: shape as number[], begin, end };
}

/**
 * Every data byte must belong to exactly one tensor: no gaps, no overlaps, nothing past the end.
 * Returns the tensors in data order.
 */
function checkCoverage(tensors: SafetensorsTensorInfo[], dataLength: number): SafetensorsTensorInfo[] {
  const sorted = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: SafetensorsTensorInfo | undefined;
  for (const t of sorted) {
    if (t.end > dataLength) {
      throw new ShortvError(
        'E_SAFETENSORS_OFFSETS',
        `tensor '${t.name}' ends at byte ${t.end} of the data section, which has only ${dataLength} bytes (file truncated?)`,
      );
    }
    if (t.begin > covered) {
      throw new ShortvError(
        'E_SAFETENSORS_OFFSETS',
        `data bytes ${covered}..${t.begin} belong to no tensor; offsets must cover the data section without gaps`,
      );
    }
    if (t.begin < covered) {
      throw new ShortvError(
        'E_SAFETENSORS_OFFSETS',
        `tensor '${t.name}' (bytes ${t.begin}..${t.end}) overlaps tensor '${previous?.name}' (ending at ${covered})`,
      );
    }
    covered = t.end;
    previous = t;
  }
  if (covered !== dataLength) {
    throw new ShortvError(
      'E_SAFETENSORS_OFFSETS',
      `data bytes ${covered}..${dataLength} at the end of the file belong to no tensor`,
    );
  }
  return sorted;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Parses and validates the JSON header; `fileSize` bounds the data section. */
export function parseHeader(headerBytes: Uint8Array, fileSize: number): SafetensorsHeader {
  let text: string;
  try {
    text = utf8.decode(headerBytes);
  } catch (error) {
    throw new ShortvError('E_SAFETENSORS_HEADER_JSON', 'safetensors header is not valid UTF-8', {
      cause: error,
    });
  }
  const json = parseJsonStrict(text, 'safetensors header', {
    syntax: 'E_SAFETENSORS_HEADER_JSON',
    duplicate: 'E_SAFETENSORS_DUPLICATE',
  });
  if (!isJsonObject(json))
    throw headerError(`expected a JSON object, got ${Array.isArray(json) ? 'an array' : typeof json}`);
  const metadata: Record<string, string> = {};
  const entries: SafetensorsTensorInfo[] = [];
  for (const [key, value] of Object.entries(json)) {
    if (key === '__metadata__') {
      if (!isJsonObject(value)) throw headerError('__metadata__ must be an object of strings');
      for (const [metaKey, metaValue] of Object.entries(value)) {
        if (typeof metaValue !== 'string') {
          throw headerError(
            `__metadata__ value for ${JSON.stringify(metaKey)} must be a string, got ${JSON.stringify(metaValue)}`,
          );
        }
        Object.defineProperty(metadata, metaKey, {
          value: metaValue,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      continue;
    }
    entries.push(parseEntry(key, value));
  }
  const dataStart = 8 + headerBytes.length;
  // Data order, not JSON key order: JS objects put integer-like keys first, and data order is
  // the order that reads a file front to back.
  const ordered = checkCoverage(entries, fileSize - dataStart);
  return { metadata, tensors: new Map(ordered.map((t) => [t.name, t])), dataStart };
}
