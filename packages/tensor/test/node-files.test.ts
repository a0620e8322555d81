import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Tensor, writeSafetensors } from '../src/index.ts';
import {
  openFileSource,
  openSafetensorsFile,
  openSafetensorsModel,
  writeSafetensorsFile,
} from '../src/node/index.ts';
import { values } from './safetensors-helpers.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shortv-tensor-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const weights = {
  w: new Tensor('float32', new Float32Array([0.5, -1]), [1, 2]),
  ids: new Tensor('int64', new BigInt64Array([3n]), [1]),
};

describe('node file access', () => {
  it('writes atomically and reads back lazily from disk', async () => {
    const path = join(dir, 'model.safetensors');
    await writeSafetensorsFile(path, weights, { format: 'pt' });
    expect(await readdir(dir)).toEqual(['model.safetensors']);
    expect(new Uint8Array(await readFile(path))).toEqual(writeSafetensors(weights, { format: 'pt' }));
    const st = await openSafetensorsFile(path);
    expect(st.metadata).toEqual({ format: 'pt' });
    expect(values(await st.read('w'))).toEqual([0.5, -1]);
    expect(values(await st.read('ids'))).toEqual([3n]);
    await st.close();
  });

  it('leaves an existing file untouched and no temp file behind when writing fails', async () => {
    const path = join(dir, 'model.safetensors');
    await writeFile(path, 'old');
    await expect(
      writeSafetensorsFile(path, { __metadata__: Tensor.zeros('uint8', [1]) }),
    ).rejects.toMatchObject({
      code: 'E_SAFETENSORS_NAME',
    });
    await expect(
      writeSafetensorsFile(join(dir, 'missing-folder', 'x.safetensors'), weights),
    ).rejects.toThrow();
    expect(await readFile(path, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['model.safetensors']);
  });

  it('reads byte ranges and stops short at the end of the file', async () => {
    const path = join(dir, 'bytes.bin');
    await writeFile(path, Uint8Array.from([1, 2, 3, 4, 5]));
    const source = await openFileSource(path);
    expect(source.size).toBe(5);
    expect(Array.from(await source.read(1, 3))).toEqual([2, 3, 4]);
    expect(Array.from(await source.read(3, 10))).toEqual([4, 5]);
    await source.close();
    await expect(source.read(0, 1)).rejects.toMatchObject({ code: 'E_FILE_CLOSED' });
    await expect(openFileSource(join(dir, 'nope'))).rejects.toMatchObject({ code: 'E_FILE_NOT_FOUND' });
  });

  it('opens a model folder with one file or with an index and shards', async () => {
    await writeSafetensorsFile(join(dir, 'model.safetensors'), weights);
    const single = await openSafetensorsModel(dir);
    expect([...single.names].sort()).toEqual(['ids', 'w']);
    await single.close();

    const sharded = join(dir, 'sharded');
    await mkdir(sharded);
    await writeSafetensorsFile(join(sharded, 'a.safetensors'), { w: weights.w });
    await writeSafetensorsFile(join(sharded, 'b.safetensors'), { ids: weights.ids });
    const index = {
      metadata: {},
      weight_map: { w: 'a.safetensors', ids: 'b.safetensors', gone: 'c.safetensors' },
    };
    await writeFile(join(sharded, 'model.safetensors.index.json'), JSON.stringify(index));
    const set = await openSafetensorsModel(sharded);
    expect(values(await set.read('ids'))).toEqual([3n]);
    expect(values(await set.read('w'))).toEqual([0.5, -1]);
    await expect(set.read('gone')).rejects.toMatchObject({
      code: 'E_SAFETENSORS_MISSING_SHARD',
      message: expect.stringContaining("'c.safetensors'"),
    });
    await set.close();
  });

  it('says when a folder has no weights', async () => {
    await expect(openSafetensorsModel(dir)).rejects.toMatchObject({ code: 'E_SAFETENSORS_NOT_FOUND' });
  });
});
