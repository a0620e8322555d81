import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { float16ToFloat32, float32ToFloat16, isShortvError, Tensor } from '@shortv/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedTensors, hfKey, memoryModelFolder, openLlavaModel } from '../src/index.ts';
import { nodeModelFolder } from '../src/node/index.ts';
import {
  checkpointFiles,
  createTinyLlava,
  tinyLlavaCheckpoint,
  writeCheckpointFolder,
} from '../src/testing/index.ts';

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (isShortvError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a failure');
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shortv-models-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('openLlavaModel', () => {
  it('reads both HF key layouts, single-file and sharded, to the same canonical float32 tensors', async () => {
    const legacyDir = join(dir, 'legacy');
    await createTinyLlava(legacyDir, { seed: 7, layout: 'legacy' });
    const legacy = await openLlavaModel(nodeModelFolder(legacyDir));
    const current = await openLlavaModel(
      memoryModelFolder(checkpointFiles(tinyLlavaCheckpoint({ seed: 7, layout: 'current' }), 3)),
    );
    expect(legacy.weights.names).toEqual(current.weights.names);
    expect(legacy.weights.names).toContain('text.layers.2.mlp.down_proj.weight');
    expect(legacy.weights.names).toContain('vision.encoder.layers.0.self_attn.q_proj.weight');
    expect(legacy.weights.names).not.toContain('vision.encoder.layers.1.self_attn.q_proj.weight');
    const a = await legacy.weights.readAll();
    const b = await current.weights.readAll();
    for (const [name, t] of a) {
      expect(t.dtype).toBe('float32');
      expect(b.get(name)!.data).toEqual(t.data);
    }
    await legacy.weights.close();
    await current.weights.close();
  });

  it('converts float16 and bfloat16 weights to float32', async () => {
    const f32 = tinyLlavaCheckpoint({ seed: 3 });
    for (const dtype of ['float16', 'bfloat16'] as const) {
      const model = await openLlavaModel(
        memoryModelFolder(checkpointFiles(tinyLlavaCheckpoint({ seed: 3, dtype }))),
      );
      const w = await model.weights.read('text.layers.0.self_attn.q_proj.weight');
      expect(w.dtype).toBe('float32');
      const original = f32.tensors.get(hfKey('text.layers.0.self_attn.q_proj.weight', 'legacy'))!
        .data as Float32Array;
      const tolerance = dtype === 'float16' ? 1e-3 : 1e-2;
      let worst = 0;
      for (let i = 0; i < original.length; i++) worst = Math.max(worst, Math.abs(w.data[i]! - original[i]!));
      expect(worst).toBeGreaterThan(0);
      expect(worst).toBeLessThan(tolerance);
      if (dtype === 'float16') expect(w.data).toEqual(float16ToFloat32(float32ToFloat16(original)));
    }
  });

  it('resolves a tied lm_head to the embeddings and does not require it', async () => {
    const model = await openLlavaModel(
      memoryModelFolder(tinyFiles({ tieWordEmbeddings: true, text: 'qwen2' })),
    );
    expect(model.config.tieWordEmbeddings).toBe(true);
    expect(model.weights.names).not.toContain('text.lm_head.weight');
    const head = await model.weights.read('text.lm_head.weight');
    const embed = await model.weights.read('text.embed_tokens.weight');
    expect(head.data).toEqual(embed.data);
    expect(model.weights.names).toContain('text.layers.0.self_attn.q_proj.bias');
  });

  it('names a missing tensor', async () => {
    const checkpoint = tinyLlavaCheckpoint({ seed: 2 });
    checkpoint.tensors.delete('language_model.model.layers.1.mlp.up_proj.weight');
    const err = await failure(openLlavaModel(memoryModelFolder(checkpointFiles(checkpoint))));
    expect(err.code).toBe('E_MODEL_MISSING_TENSOR');
    expect(err.message).toContain('text.layers.1.mlp.up_proj.weight');
    expect(err.message).toContain('language_model.model.layers.1.mlp.up_proj.weight');
  });

  it('names a tensor whose shape disagrees with config.json, with both shapes', async () => {
    const checkpoint = tinyLlavaCheckpoint({ seed: 2, layout: 'current' });
    const key = 'model.language_model.layers.0.self_attn.k_proj.weight';
    checkpoint.tensors.set(key, Tensor.zeros('float32', [16, 32]));
    const sub = join(dir, 'bad-shape');
    await writeCheckpointFolder(sub, checkpoint);
    const err = await failure(openLlavaModel(nodeModelFolder(sub)));
    expect(err.code).toBe('E_MODEL_TENSOR_SHAPE');
    expect(err.message).toContain('text.layers.0.self_attn.k_proj.weight');
    expect(err.message).toContain(key);
    expect(err.message).toContain('[16, 32]');
    expect(err.message).toContain('[32, 32]');
  });

  it('refuses a checkpoint that mixes both key layouts for one tensor', async () => {
    const checkpoint = tinyLlavaCheckpoint({ seed: 2 });
    checkpoint.tensors.set('lm_head.weight', checkpoint.tensors.get('language_model.lm_head.weight')!);
    const err = await failure(openLlavaModel(memoryModelFolder(checkpointFiles(checkpoint))));
    expect(err.code).toBe('E_MODEL_WEIGHTS_LAYOUT');
    expect(err.message).toContain('text.lm_head.weight');
  });

  it('names what is supported for an unsupported model_type, and a folder without weights', async () => {
    const files = tinyFiles({});
    const config = JSON.parse(files['config.json'] as string);
    const err = await failure(
      openLlavaModel(
        memoryModelFolder({ ...files, 'config.json': JSON.stringify({ ...config, model_type: 'idefics2' }) }),
      ),
    );
    expect(err.code).toBe('E_MODEL_UNSUPPORTED');
    expect(err.message).toContain('idefics2');
    expect(err.message).toContain('llava');
    const noWeights = await failure(
      openLlavaModel(memoryModelFolder({ 'config.json': files['config.json']! })),
    );
    expect(noWeights.code).toBe('E_MODEL_WEIGHTS_NOT_FOUND');
    const noConfig = await failure(openLlavaModel(nodeModelFolder(join(dir, 'nowhere'))));
    expect(noConfig.code).toBe('E_MODEL_FILE_NOT_FOUND');
    expect(noConfig.message).toContain('config.json');
  });

  it('expects exactly the tensors the config implies', () => {
    const { config } = tinyLlavaCheckpoint({ text: 'qwen2', vision: 'siglip', numKvHeads: 2 });
    const expected = expectedTensors(config);
    expect(expected.get('text.layers.0.self_attn.k_proj.weight')).toEqual([16, 32]);
    expect(expected.get('text.layers.0.self_attn.k_proj.bias')).toEqual([16]);
    expect(expected.has('text.layers.0.self_attn.o_proj.bias')).toBe(false);
    expect(expected.get('vision.embeddings.position_embedding.weight')).toEqual([16, 32]);
    expect(expected.has('vision.embeddings.class_embedding')).toBe(false);
    expect(expected.has('vision.encoder.layers.1.mlp.fc2.bias')).toBe(true);
  });
});

function tinyFiles(options: Parameters<typeof tinyLlavaCheckpoint>[0]) {
  return checkpointFiles(tinyLlavaCheckpoint(options));
}
