import { describe, expect, it } from 'vitest';
import {
  type ByteSource,
  bytesSource,
  openShardedSafetensors,
  parseSafetensorsIndex,
  Tensor,
  writeSafetensors,
} from '../src/index.ts';
import { values } from './safetensors-helpers.ts';

const shard1 = writeSafetensors({
  'embed.weight': new Tensor('float32', new Float32Array([1, 2, 3, 4]), [2, 2]),
  'layer.0.bias': new Tensor('float16', new Uint16Array([0x3c00]), [1]),
});
const shard2 = writeSafetensors({
  'lm_head.weight': new Tensor('bfloat16', new Uint16Array([0x4000, 0xc000]), [1, 2]),
});

const index = JSON.stringify({
  metadata: { total_size: 22 },
  weight_map: {
    'embed.weight': 'model-00001-of-00002.safetensors',
    'layer.0.bias': 'model-00001-of-00002.safetensors',
    'lm_head.weight': 'model-00002-of-00002.safetensors',
  },
});

function folder(files: Record<string, Uint8Array>) {
  const opened: string[] = [];
  const openShard = async (file: string): Promise<ByteSource> => {
    opened.push(file);
    const bytes = files[file];
    if (bytes === undefined) throw new Error(`no file ${file}`);
    return bytesSource(bytes);
  };
  return { opened, openShard };
}

describe('sharded safetensors', () => {
  it('reads tensors from the shard the index names, opening shards only when needed', async () => {
    const fs = folder({
      'model-00001-of-00002.safetensors': shard1,
      'model-00002-of-00002.safetensors': shard2,
    });
    const set = openShardedSafetensors(index, fs.openShard);
    expect(set.names).toEqual(['embed.weight', 'layer.0.bias', 'lm_head.weight']);
    expect(set.shards).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    expect(set.index.metadata).toEqual({ total_size: 22 });
    expect(fs.opened).toEqual([]);
    const head = await set.read('lm_head.weight');
    expect(head.dtype).toBe('bfloat16');
    expect(values(head)).toEqual([0x4000, 0xc000]);
    expect(fs.opened).toEqual(['model-00002-of-00002.safetensors']);
    await set.read('embed.weight');
    await set.read('layer.0.bias');
    expect((await set.info('embed.weight')).shape).toEqual([2, 2]);
    expect(fs.opened).toEqual(['model-00002-of-00002.safetensors', 'model-00001-of-00002.safetensors']);
    await set.verify();
    await set.close();
  });

  it('names the missing shard', async () => {
    const fs = folder({ 'model-00001-of-00002.safetensors': shard1 });
    const set = openShardedSafetensors(index, fs.openShard);
    await set.read('embed.weight');
    await expect(set.read('lm_head.weight')).rejects.toMatchObject({
      code: 'E_SAFETENSORS_MISSING_SHARD',
      message: expect.stringContaining("'model-00002-of-00002.safetensors'"),
    });
    await expect(set.verify()).rejects.toMatchObject({ code: 'E_SAFETENSORS_MISSING_SHARD' });
  });

  it('refuses a tensor the index places in a shard that lacks it', async () => {
    const fs = folder({
      'model-00001-of-00002.safetensors': shard1,
      'model-00002-of-00002.safetensors': shard1,
    });
    const set = openShardedSafetensors(index, fs.openShard);
    await expect(set.read('lm_head.weight')).rejects.toMatchObject({
      code: 'E_SAFETENSORS_INDEX',
      message: expect.stringMatching(/'lm_head\.weight'.*'model-00002-of-00002\.safetensors'/),
    });
    await expect(set.verify()).rejects.toMatchObject({ code: 'E_SAFETENSORS_INDEX' });
  });

  it('reports a corrupt shard with its name and the shard error code', async () => {
    const broken = shard2.slice(0, shard2.length - 1);
    const fs = folder({
      'model-00001-of-00002.safetensors': shard1,
      'model-00002-of-00002.safetensors': broken,
    });
    const set = openShardedSafetensors(index, fs.openShard);
    await expect(set.read('lm_head.weight')).rejects.toMatchObject({
      code: 'E_SAFETENSORS_OFFSETS',
      message: expect.stringContaining("shard 'model-00002-of-00002.safetensors'"),
    });
  });

  it('refuses a malformed index', () => {
    expect(() => parseSafetensorsIndex('{"weight_map": []}')).toThrow(
      expect.objectContaining({ code: 'E_SAFETENSORS_INDEX' }),
    );
    expect(() => parseSafetensorsIndex('{"weight_map": {"a": 3}}')).toThrow(/'a' must be a file name/);
    expect(() => parseSafetensorsIndex('{"weight_map": {"a": "../../etc/passwd"}}')).toThrow(
      /not a file name inside/,
    );
    expect(() => parseSafetensorsIndex('{"weight_map": {"a": "/abs.safetensors"}}')).toThrow(
      /not a file name inside/,
    );
    expect(() => parseSafetensorsIndex('{"weight_map": {"a": "x", "a": "y"}}')).toThrow(
      expect.objectContaining({ code: 'E_SAFETENSORS_DUPLICATE' }),
    );
    expect(() => parseSafetensorsIndex('not json')).toThrow(
      expect.objectContaining({ code: 'E_SAFETENSORS_INDEX' }),
    );
    expect(parseSafetensorsIndex(new TextEncoder().encode(index)).weightMap.size).toBe(3);
  });
});
