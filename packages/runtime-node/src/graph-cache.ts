import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { GraphCache } from '@shortv/runtime-core';
import { ShortvError } from '@shortv/tensor';
import { evictToCap } from './cache-dir.ts';

/*
 * Entry layout: the cached bytes gzip-compressed, then a fixed-size trailer that lets `get` prove the entry
 * is whole. Graphs that reference an external weights file are mostly names and small constants, and gzip
 * shrinks them about tenfold: a demo's few dozen graph forms then cost a fraction of the weights on disk.
 * (`head -c -83 entry | gunzip > graph.onnx` gives the plain graph, for Netron or ORT by path.)
 * Trailer: a length-delimited protobuf field prefix, kept from the uncompressed layout, and the payload
 * magic (8) | stored byte length, u64 LE (8) | sha256 of the stored bytes (32) | sha256 of the key (32).
 */
const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);
const ENTRY_SUFFIX = '.onnx.gz';
const TRAILER_FIELD = 1999;
const MAGIC = new TextEncoder().encode('shortvgc');
const PAYLOAD_BYTES = 8 + 8 + 32 + 32;
const TRAILER_PREFIX = Uint8Array.of(...varint((TRAILER_FIELD << 3) | 2), ...varint(PAYLOAD_BYTES));
const TRAILER_BYTES = TRAILER_PREFIX.length + PAYLOAD_BYTES;

const SAFE_KEY = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

function sha256(bytes: Uint8Array | string): Uint8Array {
  return createHash('sha256').update(bytes).digest();
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

function isErrno(error: unknown, ...codes: string[]): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && codes.includes(code);
}

function trailerFor(bytes: Uint8Array, key: string): Uint8Array {
  const trailer = new Uint8Array(TRAILER_BYTES);
  trailer.set(TRAILER_PREFIX, 0);
  let at = TRAILER_PREFIX.length;
  trailer.set(MAGIC, at);
  at += 8;
  new DataView(trailer.buffer).setBigUint64(at, BigInt(bytes.byteLength), true);
  at += 8;
  trailer.set(sha256(bytes), at);
  trailer.set(sha256(key), at + 32);
  return trailer;
}

type Entry = { kind: 'valid'; bytes: Uint8Array } | { kind: 'other-key' } | { kind: 'corrupt' };

function readEntry(file: Uint8Array, key: string): Entry {
  if (file.byteLength < TRAILER_BYTES) return { kind: 'corrupt' };
  const trailerAt = file.byteLength - TRAILER_BYTES;
  const trailer = file.subarray(trailerAt);
  const view = new DataView(trailer.buffer, trailer.byteOffset, trailer.byteLength);
  let at = TRAILER_PREFIX.length;
  if (!equalBytes(trailer.subarray(0, at), TRAILER_PREFIX)) return { kind: 'corrupt' };
  if (!equalBytes(trailer.subarray(at, at + 8), MAGIC)) return { kind: 'corrupt' };
  at += 8;
  if (view.getBigUint64(at, true) !== BigInt(trailerAt)) return { kind: 'corrupt' };
  at += 8;
  const stored = file.subarray(0, trailerAt);
  if (!equalBytes(sha256(stored), trailer.subarray(at, at + 32))) return { kind: 'corrupt' };
  // A whole entry written under another key: a hashed-name or case-insensitive file system collision.
  if (!equalBytes(sha256(key), trailer.subarray(at + 32, at + 64))) return { kind: 'other-key' };
  return { kind: 'valid', bytes: new Uint8Array(stored.buffer, stored.byteOffset, stored.byteLength) };
}

/**
 * A GraphCache in a directory: one `<key>.onnx.gz` per entry, verified on every read (a truncated,
 * corrupted or foreign entry is a miss, never data) and replaced atomically on write.
 */
export class DiskGraphCache implements GraphCache {
  readonly dir: string;

  /** Size cap of the whole directory (graphs and weights files), least recently used removed first. */
  readonly maxBytes: number | undefined;

  constructor(dir: string, options: { maxBytes?: number } = {}) {
    if (typeof dir !== 'string' || dir.length === 0) {
      throw new ShortvError('E_CACHE_DIR', 'the graph cache needs a directory path; pass a non-empty string');
    }
    this.dir = resolve(dir);
    this.maxBytes = options.maxBytes;
  }

  /** Enforces the size cap, keeping `paths` (just written). */
  async evict(paths: readonly string[]): Promise<void> {
    if (this.maxBytes !== undefined) await evictToCap(this.dir, this.maxBytes, paths);
  }

  /** Where the entry for `key` lives; keys outside [A-Za-z0-9._-] (or too long) are stored under their hash. */
  entryPath(key: string): string {
    if (typeof key !== 'string' || key.length === 0) {
      throw new ShortvError('E_CACHE_KEY', 'a graph cache key must be a non-empty string');
    }
    const name = SAFE_KEY.test(key) ? key : `key-${Buffer.from(sha256(key)).toString('hex')}`;
    return join(this.dir, `${name}${ENTRY_SUFFIX}`);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const path = this.entryPath(key);
    let file: Uint8Array;
    try {
      file = await readFile(path);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return undefined;
      throw new ShortvError(
        'E_CACHE_IO',
        `cannot read the graph cache entry ${path}: ${(error as Error).message}; check the cache directory's permissions or delete it`,
        { cause: error },
      );
    }
    const entry = readEntry(file, key);
    if (entry.kind === 'valid') {
      const bytes = await gunzipAsync(entry.bytes).catch(() => undefined);
      if (bytes) {
        // The mtime is the entry's last use, for least-recently-used eviction.
        const now = new Date();
        await utimes(path, now, now).catch(() => undefined);
        return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      }
    }
    // A damaged entry would fail again on every run; removing it lets the next put heal the cache.
    // (A put racing this removal only costs a later miss: entries are replaced, never edited in place.)
    if (entry.kind !== 'other-key') await rm(path, { force: true }).catch(() => undefined);
    return undefined;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const path = this.entryPath(key);
    const temp = join(this.dir, `.${randomBytes(8).toString('hex')}.${process.pid}.tmp`);
    try {
      const stored = await gzipAsync(bytes);
      await mkdir(this.dir, { recursive: true });
      await writeFile(temp, [stored, trailerFor(stored, key)], { flag: 'wx' });
      await rename(temp, path);
      await this.evict([path]);
    } catch (error) {
      await rm(temp, { force: true }).catch(() => undefined);
      // Windows refuses to rename over a file another writer holds open; that writer's entry is as good.
      if (isErrno(error, 'EPERM', 'EACCES', 'EBUSY') && (await this.get(key).catch(() => undefined))) return;
      throw new ShortvError(
        'E_CACHE_IO',
        `cannot write the graph cache entry ${path}: ${(error as Error).message}; check free space and the permissions of ${this.dir}`,
        { cause: error },
      );
    }
  }
}
