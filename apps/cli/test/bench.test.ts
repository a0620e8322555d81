import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { modelShapesPackageDir } from '@shortv/model-shapes/node';
import { openLlavaModel } from '@shortv/models';
import { nodeModelFolder } from '@shortv/runtime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { benchPreset } from '../src/commands/bench.ts';
import { type BenchPreset, writePresetFolder } from '../src/commands/bench-presets.ts';
import { realisedShare } from '../src/commands/bench-report.ts';
import { runChild } from '../src/commands/bench-run.ts';
import { cli, tempDir } from './helpers.ts';

let dir: string;
beforeAll(async () => {
  dir = await tempDir('shortv-bench-');
});

const small: BenchPreset = {
  name: 'small',
  description: 'a small Llama decoder',
  textConfig: {
    model_type: 'llama',
    vocab_size: 64,
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 3,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    hidden_act: 'silu',
    max_position_embeddings: 1024,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    tie_word_embeddings: false,
  },
  tieWordEmbeddings: false,
  dtype: 'bfloat16',
  shards: 2,
  frozenLayers: 2,
  visualTokens: [144],
  weights: 'fp32',
  sweep: false,
};

describe('bench presets', () => {
  it('writes a sharded bf16 folder that loads with every tensor its config implies', async () => {
    const folder = join(dir, 'small');
    await writePresetFolder(small, folder);
    const files = (await readdir(folder)).sort();
    expect(files).toContain('model.safetensors.index.json');
    expect(files.filter((f) => f.endsWith('.safetensors'))).toHaveLength(2);
    const model = await openLlavaModel(nodeModelFolder(folder));
    const down = await model.weights.read('text.layers.2.mlp.down_proj.weight');
    expect(down.dims).toEqual([64, 128]);
    expect(down.data.every(Number.isFinite)).toBe(true);
    const norm = await model.weights.read('text.layers.0.input_layernorm.weight');
    expect([...norm.data]).toEqual(new Array(64).fill(1));
    await model.weights.close();
  });

  it('times dense and ShortV prefill and reads memory in a child process', async () => {
    const result = await runChild({
      mode: 'prefill',
      arms: ['dense', 'shortv'],
      model: join(dir, 'small'),
      cacheDir: join(dir, 'cache'),
      threads: 1,
      visualTokens: [288],
      tokensPerImage: 144,
      frozenLayers: [1, 2],
      reps: 2,
      textTokens: 16,
      weights: 'int8',
      warmup: true,
    });
    const row = result.rows[0]!;
    expect(row.visualTokens).toBe(288);
    expect(row.textTokens).toBeGreaterThanOrEqual(16);
    expect(row.denseMs).toHaveLength(2);
    expect(row.shortvMs.every((ms) => ms > 0)).toBe(true);
    expect(row.flopsShortv / row.flopsDense).toBeGreaterThan(0);
    expect(row.flopsShortv / row.flopsDense).toBeLessThan(1);
    expect(result.memory.end.hwmKiB).toBeGreaterThanOrEqual(result.memory.loaded.rssKiB);
    expect(result.memory.dense!.pssKiB).toBeGreaterThan(0);
    expect((await readdir(join(dir, 'cache'))).some((f) => f.startsWith('weights-'))).toBe(true);
  });

  it('runs a preset end to end, the first load (writing the weights file) in a process of its own', async () => {
    const cache = join(dir, 'preset-cache');
    const first = await benchPreset(small, cache, [1], 1, false, () => {}, true);
    expect(first.prepackWeights).toBe('on');
    expect(first.firstLoad.wroteWeightsFile).toBe(true);
    expect(first.firstLoad.peakRssBytes).toBeGreaterThan(0);
    expect(first.rows).toHaveLength(1);
    expect(first.rows[0]!.denseMs).toBeGreaterThan(0);
    expect(first.weightsFileBytes).toBeGreaterThan(0);
    const again = await benchPreset(small, cache, [1], 1, false, () => {});
    expect(again.firstLoad.wroteWeightsFile).toBe(false);
    expect(again.weightsFileBytes).toBe(first.weightsFileBytes);
  });

  it('measures the MatMul peak in a child process', async () => {
    const peak = await runChild({ mode: 'peak', rows: 64, inner: 64, outer: 128, threads: 1, reps: 3 });
    expect(peak.ms).toHaveLength(3);
    expect(peak.gflops).toBeGreaterThan(0);
  });

  it('computes the realised share of the ideal speed-up', () => {
    // Half the FLOPs and half the time: all of the ideal speed-up; 0.8 of the time: 0.625 of it.
    expect(realisedShare(100, 50, 0.5)).toBeCloseTo(1);
    expect(realisedShare(100, 80, 0.5)).toBeCloseTo(0.625);
  });

  it('refuses an unknown preset as a user error', async () => {
    const r = await cli(['bench', '--preset', 'gpt-9', '--cache-dir', join(dir, 'cache')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/unknown preset "gpt-9": use one of onevision-0.5b/);
    const bad = await cli([
      'bench',
      '--preset',
      'onevision-0.5b',
      '--prepack-weights',
      'yes',
      '--cache-dir',
      join(dir, 'cache'),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/--prepack-weights takes auto, on or off, got "yes"/);
  });
});

describe('--weights', () => {
  it('refuses an unknown format and quantized weights without the cache as user errors', async () => {
    const image = join(modelShapesPackageDir(), 'samples', 'test-1-000000.png');
    const unknown = await cli(['run', '--image', image, '--prompt', 'hi', '--weights', 'int3']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/--weights must be one of fp32, int8, int4, got "int3"/);
    const noCache = await cli(['run', '--image', image, '--prompt', 'hi', '--weights', 'int4', '--no-cache']);
    expect(noCache.code).toBe(1);
    expect(noCache.err).toMatch(/drop --no-cache/);
  });
});

describe('shortv cache', () => {
  it('lists weights files and graphs and clears them', async () => {
    const cache = join(dir, 'listed');
    await mkdir(cache, { recursive: true });
    await writeFile(join(cache, 'vision-abc.onnx'), new Uint8Array(100));
    await writeFile(join(cache, 'weights-k.bin'), new Uint8Array(1000));
    await writeFile(join(cache, 'weights-k.json'), '{}');
    const ls = await cli(['cache', 'ls', '--cache-dir', cache, '--json']);
    expect(ls.code).toBe(0);
    const listed = JSON.parse(ls.out) as { totalBytes: number; items: { kind: string; bytes: number }[] };
    expect(listed.totalBytes).toBe(1102);
    expect(listed.items.map((i) => i.kind).sort()).toEqual(['graph', 'weights']);
    const text = await cli(['cache', 'ls', '--cache-dir', cache]);
    expect(text.out).toMatch(/2 items/);
    const clear = await cli(['cache', 'clear', '--cache-dir', cache, '--json']);
    expect(JSON.parse(clear.out)).toMatchObject({ removedItems: 2, removedBytes: 1102 });
    expect(await readdir(cache)).toEqual([]);
  });
});
