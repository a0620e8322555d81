import { type ByteSource, bytesSource, ShortvError } from '@shortv/tensor';

/**
 * A Hugging Face model folder, wherever it lives (disk, HTTP, OPFS, memory). Paths are relative to the
 * folder with '/' separators. Platform packages implement it; this package only reads through it.
 */
export interface ModelFolder {
  /** Where the folder is, for messages (a path or URL). */
  readonly location: string;
  readText(file: string): Promise<string>;
  /** Random access to one file; the caller closes it. */
  open(file: string): Promise<ByteSource>;
  exists(file: string): Promise<boolean>;
  /** Files directly in the folder (not recursive). */
  list(): Promise<string[]>;
}

export function fileNotFound(folder: string, file: string): ShortvError {
  return new ShortvError('E_MODEL_FILE_NOT_FOUND', `${file} is missing from the model folder ${folder}`);
}

/** A folder held in memory: test fixtures, or files a browser app already fetched. */
export function memoryModelFolder(
  files: Readonly<Record<string, Uint8Array | string>>,
  location = '(in-memory model folder)',
): ModelFolder {
  const bytes = (file: string): Uint8Array => {
    const entry = files[file];
    if (entry === undefined) throw fileNotFound(location, file);
    return typeof entry === 'string' ? new TextEncoder().encode(entry) : entry;
  };
  return {
    location,
    readText: async (file) => new TextDecoder().decode(bytes(file)),
    open: async (file) => bytesSource(bytes(file)),
    exists: async (file) => files[file] !== undefined,
    list: async () => Object.keys(files).sort(),
  };
}
