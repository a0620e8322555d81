import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ShortvError } from '../errors.ts';
import { openSafetensors, type SafetensorsFile, type TensorStore } from '../safetensors/reader.ts';
import { openShardedSafetensors, parseSafetensorsIndex } from '../safetensors/sharded.ts';
import type { ByteSource } from '../safetensors/source.ts';
import { writeSafetensors } from '../safetensors/writer.ts';
import type { Tensor } from '../tensor.ts';

export interface FileSource extends ByteSource {
  readonly path: string;
  close(): Promise<void>;
}

function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'ENOENT';
}

/** A random-access source over a local file; reads use positioned reads, so they may overlap. */
export async function openFileSource(path: string): Promise<FileSource> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if (isNotFound(error))
      throw new ShortvError('E_FILE_NOT_FOUND', `file not found: ${path}`, { cause: error });
    throw new ShortvError('E_FILE_OPEN', `cannot open ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const info = await handle.stat();
  if (!info.isFile()) {
    await handle.close();
    throw new ShortvError(
      'E_FILE_NOT_A_FILE',
      `${path} is not a file (it is a ${info.isDirectory() ? 'directory' : 'special file'}); put the file itself there`,
    );
  }
  const { size } = info;
  let closed = false;
  return {
    path,
    size,
    async read(offset, length) {
      if (closed) throw new ShortvError('E_FILE_CLOSED', `${path} was closed; open it again to read`);
      const buffer = new Uint8Array(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(buffer, filled, length - filled, offset + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return filled === length ? buffer : buffer.subarray(0, filled);
    },
    async close() {
      if (closed) return;
      closed = true;
      await handle.close();
    },
  };
}

/** Opens one .safetensors file lazily; `close()` releases the file. */
export async function openSafetensorsFile(path: string): Promise<SafetensorsFile> {
  const source = await openFileSource(path);
  try {
    return await openSafetensors(source, path);
  } catch (error) {
    await source.close();
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/**
 * The weights of a Hugging Face model folder: `model.safetensors.index.json` with its shards when
 * present, else `model.safetensors`.
 */
export async function openSafetensorsModel(dir: string): Promise<TensorStore> {
  const indexPath = join(dir, 'model.safetensors.index.json');
  if (await exists(indexPath)) {
    const source = await openFileSource(indexPath);
    let bytes: Uint8Array;
    try {
      bytes = await source.read(0, source.size);
    } finally {
      await source.close();
    }
    return openShardedSafetensors(parseSafetensorsIndex(bytes), async (file) => {
      try {
        return await openFileSource(join(dir, file));
      } catch (error) {
        if (error instanceof ShortvError && error.code === 'E_FILE_NOT_FOUND') {
          throw new ShortvError(
            'E_SAFETENSORS_MISSING_SHARD',
            `shard '${file}' named in ${indexPath} is missing from ${dir}`,
            { cause: error },
          );
        }
        throw error;
      }
    });
  }
  const single = join(dir, 'model.safetensors');
  if (await exists(single)) return openSafetensorsFile(single);
  throw new ShortvError(
    'E_SAFETENSORS_NOT_FOUND',
    `${dir} has neither model.safetensors nor model.safetensors.index.json`,
  );
}

/**
 * Writes a safetensors file atomically: the bytes go to a temporary file in the same folder, are
 * flushed, and the file is renamed over `path`, so readers never see a half-written file.
 */
export async function writeSafetensorsFile(
  path: string,
  tensors: Readonly<Record<string, Tensor>> | ReadonlyMap<string, Tensor>,
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  const bytes = writeSafetensors(tensors, metadata);
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}
