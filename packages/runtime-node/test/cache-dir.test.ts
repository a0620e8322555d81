import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clearCache, DiskGraphCache, DiskWeightsStore, evictToCap, listCacheItems } from '../src/index.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shortv-cache-dir-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, bytes: number, ageSeconds: number): Promise<void> {
  await writeFile(join(dir, name), new Uint8Array(bytes));
  const t = new Date(Date.now() - ageSeconds * 1000);
  await utimes(join(dir, name), t, t);
}

describe('cache directory size cap', () => {
  it('lists graphs and weights files (data + index as one item), least recently used first', async () => {
    await file('a.onnx', 100, 30);
    await file('weights-k1.bin', 1000, 10);
    await file('weights-k1.json', 10, 10);
    await file('notes.txt', 5, 0);
    const items = await listCacheItems(dir);
    expect(items.map((i) => [i.kind, i.bytes])).toEqual([
      ['graph', 100],
      ['weights', 1010],
    ]);
  });

  it('evicts least recently used items until under the cap, keeping the ones just written', async () => {
    await file('old.onnx', 100, 40);
    await file('weights-old.bin', 1000, 30);
    await file('weights-old.json', 10, 30);
    await file('mid.onnx', 100, 20);
    await file('new.onnx', 100, 0);
    const evicted = await evictToCap(dir, 250, [join(dir, 'new.onnx')]);
    expect(evicted.map((i) => i.files.sort())).toEqual([
      ['old.onnx'],
      ['weights-old.bin', 'weights-old.json'],
    ]);
    expect((await readdir(dir)).sort()).toEqual(['mid.onnx', 'new.onnx']);
  });

  it('a graph cache hit marks the entry used, so a put evicts the other one', async () => {
    const cache = new DiskGraphCache(dir, { maxBytes: 1 });
    await cache.put('first', new Uint8Array(64));
    expect((await readdir(dir)).sort()).toEqual(['first.onnx.gz']);
    await cache.put('second', new Uint8Array(64));
    expect((await readdir(dir)).sort()).toEqual(['second.onnx.gz']);
  });

  it('clears every item and reports what it removed', async () => {
    await file('a.onnx', 100, 0);
    await file('weights-x.bin', 50, 0);
    await file('weights-x.json', 5, 0);
    expect(await clearCache(dir)).toEqual({ items: 2, bytes: 155 });
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('weights store', () => {
  it('writes a weights file once with aligned tensors and returns it again without writing', async () => {
    const store = new DiskWeightsStore(dir);
    let writes = 0;
    const write = async (writer: {
      append(n: string, b: Uint8Array, d: readonly number[]): Promise<void>;
    }) => {
      writes++;
      await writer.append('small', Uint8Array.from([1, 2, 3]), [3]);
      await writer.append('large', new Uint8Array(2 * 1024 * 1024).fill(7), [2, 1024, 1024]);
    };
    const first = await store.open('key1', write);
    expect(first.entries.get('small')).toEqual({ offset: 0, length: 3, dims: [3] });
    expect(first.entries.get('large')!.offset % 65536).toBe(0);
    const again = await store.open('key1', write);
    expect(writes).toBe(1);
    expect([...again.entries]).toEqual([...first.entries]);
    expect(again.byteLength).toBe(first.byteLength);
  });

  it('rewrites a data file whose index is missing (an interrupted write) and removes the temp file of a failed one', async () => {
    const store = new DiskWeightsStore(dir);
    await file('weights-key2.bin', 10, 0);
    let writes = 0;
    await store.open('key2', async (w) => {
      writes++;
      await w.append('t', new Uint8Array(8), [2]);
    });
    expect(writes).toBe(1);
    await expect(
      store.open('key3', async () => {
        throw new Error('reader failed');
      }),
    ).rejects.toThrow(/reader failed/);
    expect((await readdir(dir)).filter((f) => f.startsWith('.'))).toEqual([]);
  });
});
