import type { ModelFolder } from '@shortv/models';
import { bytesSource, ShortvError } from '@shortv/tensor';
import { cacheStorageModelCache, type ModelCache } from './cache.ts';

export interface FileProgress {
  /** The file's name inside the folder. */
  file: string;
  /** Bytes received so far (a cached file reports its whole size at once). */
  loaded: number;
  /** The size announced by Content-Length, when the server sent one for an unencoded body. */
  total: number | undefined;
}

export interface UrlModelFolderOptions {
  onProgress?: (progress: FileProgress) => void;
  /**
   * Where fetched files are kept between loads. Default: `cacheStorageModelCache()` where Cache Storage
   * and SubtleCrypto exist (browsers, secure contexts), else none. `null`: no cache.
   */
  cache?: ModelCache | null;
  fetch?: typeof fetch;
}

/** Sidecar of a cached file: its length and SHA-256, or the record that the server answered 404. */
type Meta = { v: 1; length: number; sha256: string } | { v: 1; absent: true };

const ABSENT_STATUSES = new Set([404, 410]);

function metaKey(url: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}shortv-meta=1`;
}

function subtle(): SubtleCrypto | undefined {
  return (globalThis as { crypto?: Crypto }).crypto?.subtle;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await subtle()!.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

function parseMeta(bytes: Uint8Array | undefined): Meta | undefined {
  if (!bytes) return undefined;
  try {
    const value = JSON.parse(new TextDecoder().decode(bytes)) as Partial<Record<string, unknown>>;
    if (value.v !== 1) return undefined;
    if (value.absent === true) return { v: 1, absent: true };
    if (Number.isSafeInteger(value.length) && typeof value.sha256 === 'string') {
      return { v: 1, length: value.length as number, sha256: value.sha256 };
    }
  } catch {
    // An unreadable sidecar makes the entry a miss.
  }
  return undefined;
}

function encodeMeta(meta: Meta): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(meta));
}

function defaultCache(): ModelCache | null {
  const g = globalThis as { caches?: unknown };
  return g.caches !== undefined && subtle() !== undefined ? cacheStorageModelCache() : null;
}

function folderUrl(baseUrl: string): URL {
  const text = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return new URL(text, page);
  } catch (error) {
    throw new ShortvError(
      'E_MODEL_FOLDER_URL',
      `${baseUrl} is not a URL a model folder can be fetched from; give an absolute URL (or a path, in a page)`,
      { cause: error },
    );
  }
}

/** Reads a response body, reporting bytes as they arrive; refuses a body shorter or longer than announced. */
async function readBody(
  response: Response,
  url: string,
  report: (loaded: number, total: number | undefined) => void,
): Promise<Uint8Array> {
  const encoded = (response.headers.get('content-encoding') ?? 'identity') !== 'identity';
  const announced = Number(response.headers.get('content-length'));
  // Content-Length counts encoded bytes; the stream yields decoded ones, so it is no total then.
  const total = !encoded && Number.isSafeInteger(announced) && announced >= 0 ? announced : undefined;
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  report(0, total);
  if (response.body) {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.byteLength;
      report(loaded, total);
    }
  } else {
    const whole = new Uint8Array(await response.arrayBuffer());
    chunks.push(whole);
    loaded = whole.byteLength;
    report(loaded, total);
  }
  if (total !== undefined && loaded !== total) {
    throw new ShortvError(
      'E_MODEL_FETCH',
      `${url} ended after ${loaded} of ${total} bytes; the connection broke or the server cut the file short: load again`,
    );
  }
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(loaded);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

/**
 * A model folder served over HTTP under `baseUrl`. Each file is fetched whole, once per folder (the
 * engine reads safetensors by random access, so files are held in memory), with progress per file, and
 * kept in `cache`: a cached entry whose length or SHA-256 does not match its sidecar is deleted and
 * fetched again. A 404 (or 410) answer means the file does not exist (`exists` is false); it is
 * remembered in the cache too, so a cached model loads without any request. `list()` names the files
 * found so far (HTTP cannot list a directory).
 */
export function urlModelFolder(baseUrl: string, options: UrlModelFolderOptions = {}): ModelFolder {
  const root = folderUrl(baseUrl);
  const location = root.href;
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const cache = options.cache === undefined ? defaultCache() : options.cache;
  if (cache && !subtle()) {
    throw new ShortvError(
      'E_CACHE_UNAVAILABLE',
      'verifying cached model files needs crypto.subtle, which this page lacks (serve it over https or ' +
        'localhost), or pass cache: null',
    );
  }
  const loads = new Map<string, Promise<Uint8Array | null>>();

  const urlOf = (file: string): string => {
    if (
      file.length === 0 ||
      file.startsWith('/') ||
      file.split('/').some((part) => part === '..' || part === '.')
    ) {
      throw new ShortvError(
        'E_MODEL_FILE_NAME',
        `${file} is not a file name inside the model folder ${location}`,
      );
    }
    return new URL(file.split('/').map(encodeURIComponent).join('/'), root).href;
  };

  const fromCache = async (file: string, url: string): Promise<Uint8Array | null | undefined> => {
    if (!cache) return undefined;
    try {
      const meta = parseMeta(await cache.get(metaKey(url)));
      if (meta && 'absent' in meta) return null;
      const bytes = await cache.get(url);
      if (meta && bytes && bytes.byteLength === meta.length && (await sha256Hex(bytes)) === meta.sha256) {
        options.onProgress?.({ file, loaded: bytes.byteLength, total: bytes.byteLength });
        return bytes;
      }
      // A partial, corrupted or orphaned entry: drop both halves so the fetch below replaces them.
      if (meta || bytes) await Promise.all([cache.delete(url), cache.delete(metaKey(url))]);
    } catch {
      // A cache that cannot be read (storage blocked, private mode) is a miss: the file is fetched.
    }
    return undefined;
  };

  const store = async (url: string, bytes: Uint8Array | null): Promise<void> => {
    if (!cache) return;
    try {
      if (bytes === null) {
        await cache.put(metaKey(url), encodeMeta({ v: 1, absent: true }));
        return;
      }
      // Bytes first, sidecar last: an interrupted write leaves no sidecar, which reads as a miss.
      await cache.delete(metaKey(url));
      await cache.put(url, bytes);
      await cache.put(
        metaKey(url),
        encodeMeta({ v: 1, length: bytes.byteLength, sha256: await sha256Hex(bytes) }),
      );
    } catch {
      // A full or unavailable cache costs a later download, not this load.
    }
  };

  const fetchFile = async (file: string, url: string): Promise<Uint8Array | null> => {
    let response: Response;
    try {
      response = await doFetch(url);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ShortvError(
        'E_MODEL_FETCH',
        `cannot fetch ${url} (${reason}); check the URL, that the server is up and that it allows this origin (CORS)`,
        { cause: error },
      );
    }
    if (ABSENT_STATUSES.has(response.status)) {
      await response.body?.cancel().catch(() => undefined);
      return null;
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw new ShortvError(
        'E_MODEL_FETCH',
        `fetching ${url} answered HTTP ${response.status} ${response.statusText}; check the server serves the model folder`,
      );
    }
    return readBody(response, url, (loaded, total) => options.onProgress?.({ file, loaded, total }));
  };

  const load = (file: string): Promise<Uint8Array | null> => {
    const url = urlOf(file);
    let pending = loads.get(file);
    if (!pending) {
      pending = (async () => {
        const cached = await fromCache(file, url);
        if (cached !== undefined) return cached;
        const bytes = await fetchFile(file, url);
        await store(url, bytes);
        return bytes;
      })();
      // A failed load is retried by the next call instead of failing forever.
      pending.catch(() => loads.delete(file));
      loads.set(file, pending);
    }
    return pending;
  };

  const required = async (file: string): Promise<Uint8Array> => {
    const bytes = await load(file);
    if (bytes === null) {
      throw new ShortvError(
        'E_MODEL_FILE_NOT_FOUND',
        `${file} is missing from the model folder ${location}: ${urlOf(file)} answered 404 (put the file there, then clear the model cache if it remembered the miss)`,
      );
    }
    return bytes;
  };

  return {
    location,
    readText: async (file) => new TextDecoder().decode(await required(file)),
    open: async (file) => bytesSource(await required(file)),
    exists: async (file) => (await load(file)) !== null,
    async list() {
      const present: string[] = [];
      for (const [file, pending] of loads) {
        if ((await pending.catch(() => null)) !== null) present.push(file);
      }
      return present.sort();
    },
  };
}
