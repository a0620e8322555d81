import { readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ShortvError } from '@shortv/tensor';

/** Default size cap of a cache directory: room for a 7B model's int4 weights and a 1.5B model's fp32 ones. */
export const DEFAULT_CACHE_MAX_BYTES = 20 * 1024 ** 3;

export interface CacheItem {
  /** 'graph': one encoded graph; 'weights': a weights file with its index (counted together). */
  kind: 'graph' | 'weights';
  /** File names in the directory that make up the item. */
  files: string[];
  bytes: number;
  /** Last use (file mtime: reads touch it). */
  lastUsed: Date;
}

function itemName(file: string): { key: string; kind: CacheItem['kind'] } | undefined {
  if (file.startsWith('.')) return undefined;
  const weights = /^(weights-[A-Za-z0-9_-]+)\.(bin|json)$/.exec(file);
  if (weights) return { key: weights[1]!, kind: 'weights' };
  // .onnx: entries of the uncompressed layout, still listed so that eviction and `cache clear` reach them.
  if (file.endsWith('.onnx.gz') || file.endsWith('.onnx')) return { key: file, kind: 'graph' };
  return undefined;
}

/** The cache's items, least recently used first. Files the cache did not write are not listed. */
export async function listCacheItems(dir: string): Promise<CacheItem[]> {
  let files: string[];
  try {
    files = await readdir(resolve(dir));
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return [];
    throw new ShortvError(
      'E_CACHE_IO',
      `cannot list the cache directory ${dir}: ${(error as Error).message}; check its permissions`,
      { cause: error },
    );
  }
  const items = new Map<string, CacheItem>();
  for (const file of files) {
    const name = itemName(file);
    if (!name) continue;
    const info = await stat(join(dir, file)).catch(() => undefined);
    if (!info?.isFile()) continue;
    const item = items.get(name.key) ?? { kind: name.kind, files: [], bytes: 0, lastUsed: info.mtime };
    item.files.push(file);
    item.bytes += info.size;
    if (info.mtime > item.lastUsed) item.lastUsed = info.mtime;
    items.set(name.key, item);
  }
  return [...items.values()].sort((a, b) => a.lastUsed.getTime() - b.lastUsed.getTime());
}

async function removeItem(dir: string, item: CacheItem): Promise<void> {
  // Sessions that mapped a removed weights file keep their mapping: unlinking frees it once they close.
  await Promise.all(item.files.map((f) => rm(join(dir, f), { force: true }).catch(() => undefined)));
}

/**
 * Removes least-recently-used items until the directory's items total at most `maxBytes`. Items holding a
 * file in `keep` (the ones just written) stay even when they alone exceed the cap.
 */
export async function evictToCap(
  dir: string,
  maxBytes: number,
  keep: readonly string[] = [],
): Promise<CacheItem[]> {
  const items = await listCacheItems(dir);
  let total = items.reduce((n, i) => n + i.bytes, 0);
  const kept = new Set(keep.map((p) => resolve(p)));
  const evicted: CacheItem[] = [];
  for (const item of items) {
    if (total <= maxBytes) break;
    if (item.files.some((f) => kept.has(join(resolve(dir), f)))) continue;
    await removeItem(dir, item);
    total -= item.bytes;
    evicted.push(item);
  }
  return evicted;
}

/** Removes every item of the cache (and leftover temporary files of interrupted writes). */
export async function clearCache(dir: string): Promise<{ items: number; bytes: number }> {
  const items = await listCacheItems(dir);
  for (const item of items) await removeItem(dir, item);
  const leftovers = await readdir(resolve(dir)).catch(() => [] as string[]);
  await Promise.all(
    leftovers
      .filter((f) => /^\.[0-9a-f]{16}\.\d+\.tmp/.test(f))
      .map((f) => rm(join(dir, f), { force: true })),
  );
  return { items: items.length, bytes: items.reduce((n, i) => n + i.bytes, 0) };
}

export function checkCacheMaxBytes(value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new ShortvError(
      'E_RUNTIME_OPTION',
      `the cache size cap must be a positive number of bytes, got ${value}`,
    );
  }
  return value;
}
