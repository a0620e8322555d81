import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { WeightsFile, WeightsFileEntry, WeightsFileWriter, WeightsStore } from '@shortv/runtime-core';
import { ShortvError } from '@shortv/tensor';

const SAFE_KEY = /^[A-Za-z0-9_-]{1,64}$/;
// Large tensors start on 64 KiB boundaries (every common page size divides it) so ORT can map each one
// straight from the file; small ones only need element alignment.
const LARGE_TENSOR_BYTES = 1024 * 1024;
const LARGE_ALIGNMENT = 65536;
const SMALL_ALIGNMENT = 64;

interface IndexJson {
  format: 'shortv.weights';
  version: 1;
  byteLength: number;
  entries: [string, WeightsFileEntry][];
}

/** A weights file in a directory; the node platform reads `directory` to point ORT at it. */
export class NodeWeightsFile implements WeightsFile {
  constructor(
    readonly directory: string,
    readonly location: string,
    readonly byteLength: number,
    readonly entries: ReadonlyMap<string, WeightsFileEntry>,
  ) {}
}

function isErrno(error: unknown, ...codes: string[]): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && codes.includes(code);
}

function ioError(path: string, what: string, error: unknown): ShortvError {
  return new ShortvError(
    'E_CACHE_IO',
    `cannot ${what} the weights file ${path}: ${(error as Error).message}; check free space and the permissions of the cache directory, or pass --no-cache`,
    { cause: error },
  );
}

/**
 * Weights files in the cache directory: `weights-<key>.bin` (the bytes graphs reference) and
 * `weights-<key>.json` (where each weight is). The index is renamed into place after the data file, so a
 * data file without an index of matching length is an interrupted write and is rewritten.
 */
export class DiskWeightsStore implements WeightsStore {
  readonly dir: string;

  constructor(
    dir: string,
    /** Called after a new file is written, with its paths: the cache's size cap runs from here. */
    private readonly afterWrite?: (paths: string[]) => Promise<void>,
  ) {
    this.dir = resolve(dir);
  }

  paths(key: string): { data: string; index: string; location: string } {
    if (!SAFE_KEY.test(key)) {
      throw new ShortvError('E_CACHE_KEY', `a weights file key must be 1-64 of [A-Za-z0-9_-], got '${key}'`);
    }
    const location = `weights-${key}.bin`;
    return { data: join(this.dir, location), index: join(this.dir, `weights-${key}.json`), location };
  }

  private async existing(key: string): Promise<NodeWeightsFile | undefined> {
    const { data, index, location } = this.paths(key);
    let parsed: IndexJson;
    try {
      parsed = JSON.parse(await readFile(index, 'utf8')) as IndexJson;
    } catch (error) {
      if (isErrno(error, 'ENOENT') || error instanceof SyntaxError) return undefined;
      throw ioError(index, 'read', error);
    }
    if (parsed.format !== 'shortv.weights' || parsed.version !== 1 || !Array.isArray(parsed.entries)) {
      return undefined;
    }
    const size = await stat(data).then(
      (s) => s.size,
      () => -1,
    );
    if (size !== parsed.byteLength) return undefined;
    // Least-recently-used eviction reads mtimes: a file in use is a file recently used.
    const now = new Date();
    await Promise.all([utimes(data, now, now), utimes(index, now, now)]).catch(() => undefined);
    return new NodeWeightsFile(this.dir, location, parsed.byteLength, new Map(parsed.entries));
  }

  async open(key: string, write: (writer: WeightsFileWriter) => Promise<void>): Promise<WeightsFile> {
    const found = await this.existing(key);
    if (found) return found;
    const { data, index, location } = this.paths(key);
    const temp = join(this.dir, `.${randomBytes(8).toString('hex')}.${process.pid}.tmp`);
    const entries = new Map<string, WeightsFileEntry>();
    let offset = 0;
    try {
      await mkdir(this.dir, { recursive: true });
      const handle = await open(temp, 'wx');
      try {
        await write({
          async append(name, bytes, dims) {
            if (entries.has(name)) {
              throw new ShortvError(
                'E_RUNTIME_WEIGHTS_FILE',
                `weight ${name} was written twice to ${location}`,
              );
            }
            const alignment = bytes.byteLength >= LARGE_TENSOR_BYTES ? LARGE_ALIGNMENT : SMALL_ALIGNMENT;
            offset += (alignment - (offset % alignment)) % alignment;
            let written = 0;
            while (written < bytes.byteLength) {
              const { bytesWritten } = await handle.write(
                bytes,
                written,
                bytes.byteLength - written,
                offset + written,
              );
              written += bytesWritten;
            }
            entries.set(name, { offset, length: bytes.byteLength, dims: [...dims] });
            offset += bytes.byteLength;
          },
        });
        await handle.truncate(offset);
      } finally {
        await handle.close();
      }
      await rename(temp, data);
      const body: IndexJson = {
        format: 'shortv.weights',
        version: 1,
        byteLength: offset,
        entries: [...entries],
      };
      const indexTemp = `${temp}.json`;
      await writeFile(indexTemp, JSON.stringify(body), { flag: 'wx' });
      await rename(indexTemp, index);
    } catch (error) {
      await rm(temp, { force: true }).catch(() => undefined);
      await rm(`${temp}.json`, { force: true }).catch(() => undefined);
      // File-system failures are the cache's; anything else (a checkpoint that cannot be read) is the caller's.
      if (typeof (error as { code?: unknown })?.code === 'string' && !(error instanceof ShortvError)) {
        throw ioError(data, 'write', error);
      }
      throw error;
    }
    await this.afterWrite?.([data, index]);
    return new NodeWeightsFile(this.dir, location, offset, entries);
  }
}
