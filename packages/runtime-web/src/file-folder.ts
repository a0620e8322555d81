import type { ModelFolder } from '@shortv/models';
import { type ByteSource, ShortvError } from '@shortv/tensor';

/** What a picked file offers: a Blob with a name, and the path inside a picked directory in Chromium/Firefox. */
type PickedFile = File & { readonly webkitRelativePath?: string };

function depth(file: PickedFile): number {
  return (file.webkitRelativePath ?? '').split('/').length;
}

function blobSource(blob: Blob): ByteSource {
  return {
    size: blob.size,
    async read(offset, length) {
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
        throw new ShortvError('E_SOURCE_RANGE', `invalid read of ${length} bytes at ${offset}`);
      }
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
  };
}

function missing(location: string, file: string): ShortvError {
  return new ShortvError(
    'E_MODEL_FILE_NOT_FOUND',
    `${file} is missing from the model folder ${location}; pick it together with the other model files`,
  );
}

function isDirectoryHandle(source: unknown): source is FileSystemDirectoryHandle {
  return (
    typeof source === 'object' &&
    source !== null &&
    (source as { kind?: unknown }).kind === 'directory' &&
    typeof (source as { getFileHandle?: unknown }).getFileHandle === 'function'
  );
}

function fromFiles(files: readonly PickedFile[]): ModelFolder {
  // A picked directory gives paths like "model/config.json"; files are matched by base name, and when a
  // name appears twice (nested folders) the one nearest the top wins.
  const byName = new Map<string, PickedFile>();
  for (const file of files) {
    const held = byName.get(file.name);
    if (!held || depth(file) < depth(held)) byName.set(file.name, file);
  }
  const first = files[0]?.webkitRelativePath?.split('/')[0];
  const location = first ? `picked folder ${first}` : `${files.length} picked files`;
  const get = (name: string): PickedFile => {
    const file = byName.get(name);
    if (!file) throw missing(location, name);
    return file;
  };
  return {
    location,
    readText: async (name) => get(name).text(),
    open: async (name) => blobSource(get(name)),
    exists: async (name) => byName.has(name),
    list: async () => [...byName.keys()].sort(),
  };
}

function fromDirectory(dir: FileSystemDirectoryHandle): ModelFolder {
  const location = `picked folder ${dir.name}`;
  const find = async (name: string): Promise<File | undefined> => {
    try {
      return await (await dir.getFileHandle(name)).getFile();
    } catch (error) {
      const kind = (error as { name?: unknown }).name;
      if (kind === 'NotFoundError' || kind === 'TypeError' || kind === 'TypeMismatchError') return undefined;
      throw new ShortvError(
        'E_MODEL_FILE_READ',
        `cannot read ${name} in ${location}: ${(error as Error).message}; pick the folder again to grant access`,
        { cause: error },
      );
    }
  };
  const get = async (name: string): Promise<File> => {
    const file = await find(name);
    if (!file) throw missing(location, name);
    return file;
  };
  return {
    location,
    readText: async (name) => (await get(name)).text(),
    open: async (name) => blobSource(await get(name)),
    exists: async (name) => (await find(name)) !== undefined,
    async list() {
      const names: string[] = [];
      for await (const handle of dir.values()) if (handle.kind === 'file') names.push(handle.name);
      return names.sort();
    },
  };
}

/**
 * A model folder the user picked: files from an `<input type="file" multiple webkitdirectory>` (matched by
 * base name, the folder prefix of `webkitRelativePath` ignored) or a directory handle from
 * `showDirectoryPicker()`. Files are read by random access (Blob slices), never copied whole.
 */
export function fileModelFolder(source: readonly File[] | FileList | FileSystemDirectoryHandle): ModelFolder {
  if (isDirectoryHandle(source)) return fromDirectory(source);
  const files = Array.from(source as ArrayLike<File>);
  if (files.length === 0) {
    throw new ShortvError('E_MODEL_FOLDER_EMPTY', 'no files were picked; pick the model folder or its files');
  }
  return fromFiles(files);
}
