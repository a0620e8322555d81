import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { ShortvError } from '@shortv/tensor';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiskGraphCache } from '../src/graph-cache.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'shortv-cache-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function bytesOf(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed * 7) & 0xff);
}

describe('DiskGraphCache', () => {
  it('creates its directory and returns what was put', async () => {
    const cache = new DiskGraphCache(join(root, 'a', 'b'));
    const bytes = bytesOf(10_000, 1);
    expect(await cache.get('vision-0123abcd')).toBeUndefined();
    await cache.put('vision-0123abcd', bytes);
    const back = await cache.get('vision-0123abcd');
    expect(back).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(back!).equals(Buffer.from(bytes))).toBe(true);
    expect(await readdir(join(root, 'a', 'b'))).toEqual(['vision-0123abcd.onnx.gz']);
  });

  it('stores empty bytes and replaces an entry on a second put', async () => {
    const cache = new DiskGraphCache(root);
    await cache.put('k', new Uint8Array());
    expect((await cache.get('k'))?.length).toBe(0);
    await cache.put('k', bytesOf(5, 2));
    expect(Array.from((await cache.get('k'))!)).toEqual(Array.from(bytesOf(5, 2)));
  });

  it('treats a truncated entry as a miss and removes it', async () => {
    const cache = new DiskGraphCache(root);
    await cache.put('decoder-dense', bytesOf(4096, 3));
    const path = cache.entryPath('decoder-dense');
    const size = (await stat(path)).size;
    for (const cut of [size - 1, size - 82, Math.floor(size / 2), 10, 0]) {
      await cache.put('decoder-dense', bytesOf(4096, 3));
      await truncate(path, cut);
      expect(await cache.get('decoder-dense')).toBeUndefined();
      await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
    }
  });

  it('treats any flipped byte, in the data or the trailer, as a miss', async () => {
    const cache = new DiskGraphCache(root);
    const bytes = bytesOf(300, 4);
    await cache.put('embed', bytes);
    const path = cache.entryPath('embed');
    const good = await readFile(path);
    // The compressed data, then the trailer's field prefix (3), magic (8), length (8) and the two hashes.
    const trailerAt = good.length - 83;
    const inTrailer = [0, 2, 3, 10, 11, 19, 20, 51, 52, 82].map((i) => trailerAt + i);
    for (const at of [0, 1, 9, Math.floor(trailerAt / 2), trailerAt - 1, ...inTrailer]) {
      const bad = Buffer.from(good);
      bad[at]! ^= 0x10;
      await writeFile(path, bad);
      expect(await cache.get('embed'), `flipped byte ${at}`).toBeUndefined();
    }
  });

  it('keeps entries compressed: a gunzipped entry is the graph', async () => {
    const cache = new DiskGraphCache(root);
    // Graph-like bytes: the same names and attributes over and over.
    const graph = new TextEncoder().encode(
      '/model/layers.0/self_attn/MatMul_output_0 location offset length '.repeat(2000),
    );
    await cache.put('decoder-dense', graph);
    const file = await readFile(cache.entryPath('decoder-dense'));
    expect(file.length).toBeLessThan(graph.length / 10);
    expect(gunzipSync(file.subarray(0, file.length - 83)).equals(Buffer.from(graph))).toBe(true);
  });

  it('treats bytes with extra data appended as a miss', async () => {
    const cache = new DiskGraphCache(root);
    await cache.put('x', bytesOf(64, 5));
    const path = cache.entryPath('x');
    await writeFile(path, Buffer.concat([await readFile(path), Buffer.of(0)]));
    expect(await cache.get('x')).toBeUndefined();
  });

  it('stores keys outside [A-Za-z0-9._-] under a hash, kept apart from each other', async () => {
    const cache = new DiskGraphCache(root);
    const keys = ['../escape', 'a/b', 'a b', 'ü', '.hidden', 'x'.repeat(300)];
    for (const [i, key] of keys.entries()) await cache.put(key, bytesOf(10, i));
    for (const [i, key] of keys.entries()) {
      expect(Array.from((await cache.get(key))!)).toEqual(Array.from(bytesOf(10, i)));
    }
    const files = await readdir(root);
    expect(files).toHaveLength(keys.length);
    for (const file of files) expect(file).toMatch(/^key-[0-9a-f]{64}\.onnx\.gz$/);
  });

  it('does not hand one key the entry of another that landed on the same file', async () => {
    const cache = new DiskGraphCache(root);
    await cache.put('model-a', bytesOf(10, 6));
    // As on a case-insensitive file system, or a key that spells another key's hashed file name.
    await writeFile(cache.entryPath('model-b'), await readFile(cache.entryPath('model-a')));
    expect(await cache.get('model-b')).toBeUndefined();
    expect(Array.from((await cache.get('model-a')) ?? [])).toEqual(Array.from(bytesOf(10, 6)));
  });

  it('ends concurrent puts of one key with a whole entry and no temporary files', async () => {
    const cache = new DiskGraphCache(join(root, 'fresh'));
    const versions = Array.from({ length: 12 }, (_, i) => bytesOf(200_000 + i, i));
    await Promise.all(versions.map((bytes) => cache.put('decoder-shortv-3.4', bytes)));
    const back = await cache.get('decoder-shortv-3.4');
    expect(back).toBeInstanceOf(Uint8Array);
    // Every version differs in length, so the length names the one put that won; its bytes must all be there.
    const winner = versions.find((v) => v.length === back!.length);
    expect(winner, `no put had length ${back!.length}`).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(back!).equals(Buffer.from(winner!))).toBe(true);
    expect(await readdir(join(root, 'fresh'))).toEqual(['decoder-shortv-3.4.onnx.gz']);
  });

  it('refuses an empty directory path or key', async () => {
    expect(() => new DiskGraphCache('')).toThrow(expect.objectContaining({ code: 'E_CACHE_DIR' }));
    const error = await new DiskGraphCache(root).get('').catch((e: ShortvError) => e);
    expect((error as ShortvError).code).toBe('E_CACHE_KEY');
  });

  it('reports a directory it cannot write to', async () => {
    const blocker = join(root, 'file');
    await writeFile(blocker, 'not a directory');
    const error = await new DiskGraphCache(join(blocker, 'cache')).put('k', bytesOf(3, 0)).catch((e) => e);
    expect((error as ShortvError).code).toBe('E_CACHE_IO');
  });
});
