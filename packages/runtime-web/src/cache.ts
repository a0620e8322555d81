import { ShortvError } from '@shortv/tensor';

/**
 * A byte store for fetched model files, keyed by URL. It only stores bytes: `urlModelFolder` keeps each
 * entry's length and SHA-256 in a sidecar entry of the same store and checks both on every read, so a
 * store needs no integrity checks of its own.
 */
export interface ModelCache {
  get(url: string): Promise<Uint8Array | undefined>;
  put(url: string, bytes: Uint8Array): Promise<void>;
  delete(url: string): Promise<void>;
}

/** A ModelCache in memory (tests, Node, or one page's lifetime); `keys()` lists what it holds. */
export function memoryModelCache(): ModelCache & { keys(): string[] } {
  const entries = new Map<string, Uint8Array>();
  return {
    get: async (url) => entries.get(url),
    put: async (url, bytes) => {
      entries.set(url, bytes);
    },
    delete: async (url) => {
      entries.delete(url);
    },
    keys: () => [...entries.keys()],
  };
}

interface CacheStorageLike {
  open(name: string): Promise<Cache>;
}

function cacheStorage(): CacheStorageLike {
  const caches = (globalThis as { caches?: CacheStorageLike }).caches;
  if (!caches) {
    throw new ShortvError(
      'E_CACHE_UNAVAILABLE',
      'Cache Storage (globalThis.caches) is not available here: it needs a browser page or worker in a secure ' +
        'context (https or localhost); pass cache: memoryModelCache() or null instead',
    );
  }
  return caches;
}

function cacheError(action: string, url: string, error: unknown): ShortvError {
  const reason = error instanceof Error ? error.message : String(error);
  return new ShortvError(
    'E_CACHE_IO',
    `cannot ${action} ${url} in Cache Storage: ${reason}; free browser storage or clear the site's data`,
    { cause: error },
  );
}

/**
 * A ModelCache on the browser's Cache Storage (`caches.open(cacheName)`): entries survive reloads and are
 * shared by the pages and workers of one origin. Bump `cacheName` to drop everything stored under an old one.
 */
export function cacheStorageModelCache(cacheName = 'shortv-models-v1'): ModelCache {
  let opened: Promise<Cache> | undefined;
  const open = () => {
    opened ??= cacheStorage()
      .open(cacheName)
      .catch((error: unknown) => {
        opened = undefined;
        throw cacheError('open the cache for', cacheName, error);
      });
    return opened;
  };
  return {
    async get(url) {
      const cache = await open();
      let response: Response | undefined;
      try {
        response = await cache.match(url);
      } catch (error) {
        throw cacheError('read', url, error);
      }
      if (!response) return undefined;
      try {
        return new Uint8Array(await response.arrayBuffer());
      } catch {
        // A body that cannot be read back is as good as missing: the folder fetches the file again.
        return undefined;
      }
    },
    async put(url, bytes) {
      const cache = await open();
      const body = new Uint8Array(bytes.byteLength);
      body.set(bytes);
      try {
        await cache.put(
          url,
          new Response(body, {
            headers: {
              'content-type': 'application/octet-stream',
              'content-length': String(bytes.byteLength),
            },
          }),
        );
      } catch (error) {
        throw cacheError('store', url, error);
      }
    },
    async delete(url) {
      const cache = await open();
      try {
        await cache.delete(url);
      } catch (error) {
        throw cacheError('delete', url, error);
      }
    },
  };
}
