import { listStoredWeights, memoryModelFolder, openLlavaModel } from '@shortv/models';
import { tinyLlavaFiles } from '@shortv/models/testing';
import { describe, expect, it } from 'vitest';
import { checkpointDigest } from '../src/index.ts';

describe('checkpoint digest', () => {
  it('is equal for equal checkpoints and differs between checkpoints of one architecture', async () => {
    const a = await checkpointDigest(memoryModelFolder(tinyLlavaFiles({ seed: 1 })));
    const again = await checkpointDigest(memoryModelFolder(tinyLlavaFiles({ seed: 1 })));
    const b = await checkpointDigest(memoryModelFolder(tinyLlavaFiles({ seed: 2 })));
    expect(again).toBe(a);
    expect(b).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
  });

  it('covers every shard of a sharded checkpoint and the dtype', async () => {
    const sharded = await checkpointDigest(memoryModelFolder(tinyLlavaFiles({ seed: 1, shards: 3 })));
    const single = await checkpointDigest(memoryModelFolder(tinyLlavaFiles({ seed: 1 })));
    const bf16 = await checkpointDigest(memoryModelFolder(tinyLlavaFiles({ seed: 1, dtype: 'bfloat16' })));
    expect(new Set([sharded, single, bf16]).size).toBe(3);
  });

  it('changes when a sampled page of the tensor data changes', async () => {
    const files = tinyLlavaFiles({ seed: 1 });
    const bytes = (files['model.safetensors'] as Uint8Array).slice();
    const before = await checkpointDigest(memoryModelFolder({ ...files, 'model.safetensors': bytes }));
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff; // the last page is always sampled
    const after = await checkpointDigest(memoryModelFolder({ ...files, 'model.safetensors': bytes }));
    expect(after).not.toBe(before);
  });
});

describe('stored weights', () => {
  it('lists each decoder Linear as packed blocks + scales when quantized, and every weight once', async () => {
    const model = await openLlavaModel(memoryModelFolder(tinyLlavaFiles({ seed: 1 })));
    const shape = (name: string) => model.weights.shape(name);
    const plain = listStoredWeights(model.config, shape);
    const q4 = listStoredWeights(model.config, shape, { bits: 4, blockSize: 32 });
    expect(new Set(plain.map((w) => w.stored)).size).toBe(plain.length);
    const q = q4.filter((w) => w.transform === 'quantized');
    const linears = plain.filter((w) => w.transform === 'transpose' && w.source.startsWith('text.layers.'));
    expect(q.map((w) => w.source).sort()).toEqual(linears.map((w) => w.source).sort());
    expect(q4.filter((w) => w.transform === 'scales')).toHaveLength(q.length);
    // The LM head and the vision tower stay fp32.
    expect(q4.some((w) => w.transform === 'transpose' && w.source.startsWith('vision.'))).toBe(true);
    expect(q4.some((w) => w.transform === 'transpose' && w.source.startsWith('text.lm_head'))).toBe(true);
    await model.weights.close();
  });
});
