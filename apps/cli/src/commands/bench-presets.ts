import { copyFile, mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { modelShapesDir } from '@shortv/model-shapes/node';
import { expectedTensors, hfKey, parseLlavaConfig } from '@shortv/models';
import { float32ToBfloat16 } from '@shortv/tensor';

/** A random-weight model of a real decoder's shapes, generated on first use. */
export interface BenchPreset {
  readonly name: string;
  readonly description: string;
  /** text_config of config.json (the real model's decoder shapes). */
  readonly textConfig: Readonly<Record<string, unknown>>;
  readonly tieWordEmbeddings: boolean;
  /** Checkpoint dtype on disk, as the real model ships. */
  readonly dtype: 'float32' | 'bfloat16';
  readonly shards: number;
  /** Layers the paper's share freezes (19 of 32 scaled to this depth). */
  readonly frozenLayers: number;
  /** Visual tokens of the headline rows. */
  readonly visualTokens: readonly number[];
  /** Weight format to run it in: what fits a 24 GB machine. */
  readonly weights: 'fp32' | 'int4' | 'int8';
  /** Whether `--sweep` sweeps this preset's visual tokens (the small one: a 7B sweep would take an hour here). */
  readonly sweep: boolean;
  /** Thread counts and repeats when they must be fewer than asked (a 7B prefill takes minutes on 2 cores). */
  readonly maxRuns?: { readonly threads: 'all'; readonly reps: number; readonly warmup: boolean };
}

const QWEN2_COMMON = {
  model_type: 'qwen2',
  vocab_size: 151936,
  hidden_act: 'silu',
  max_position_embeddings: 32768,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000,
  tie_word_embeddings: true,
};

export const BENCH_PRESETS: Readonly<Record<string, BenchPreset>> = {
  'onevision-0.5b': {
    name: 'onevision-0.5b',
    description: 'LLaVA-OneVision-0.5B language model (Qwen2, d 896, 24 layers, FFN 4864)',
    textConfig: {
      ...QWEN2_COMMON,
      hidden_size: 896,
      intermediate_size: 4864,
      num_hidden_layers: 24,
      num_attention_heads: 14,
      num_key_value_heads: 2,
    },
    tieWordEmbeddings: true,
    dtype: 'float32',
    shards: 1,
    frozenLayers: 14,
    visualTokens: [576],
    weights: 'fp32',
    sweep: true,
  },
  'qwen2-1.5b': {
    name: 'qwen2-1.5b',
    description: 'Qwen2-1.5B-class language model (d 1536, 28 layers, FFN 8960), bf16 checkpoint in 2 shards',
    textConfig: {
      ...QWEN2_COMMON,
      hidden_size: 1536,
      intermediate_size: 8960,
      num_hidden_layers: 28,
      num_attention_heads: 12,
      num_key_value_heads: 2,
    },
    tieWordEmbeddings: true,
    dtype: 'bfloat16',
    shards: 2,
    frozenLayers: 17,
    visualTokens: [576],
    weights: 'fp32',
    sweep: false,
    maxRuns: { threads: 'all', reps: 1, warmup: true },
  },
  'llava-1.5-7b': {
    name: 'llava-1.5-7b',
    description:
      'LLaVA-1.5-7B language model (Llama, d 4096, 32 layers, FFN 11008), bf16 checkpoint in 3 shards',
    textConfig: {
      model_type: 'llama',
      vocab_size: 32064,
      hidden_size: 4096,
      intermediate_size: 11008,
      num_hidden_layers: 32,
      num_attention_heads: 32,
      num_key_value_heads: 32,
      hidden_act: 'silu',
      max_position_embeddings: 4096,
      rms_norm_eps: 1e-5,
      rope_theta: 10000,
      tie_word_embeddings: false,
    },
    tieWordEmbeddings: false,
    dtype: 'bfloat16',
    shards: 3,
    frozenLayers: 19,
    visualTokens: [576],
    weights: 'int4',
    sweep: false,
    maxRuns: { threads: 'all', reps: 1, warmup: false },
  },
};

/**
 * The vision tower is a small stand-in (the bundled model's: 72 px images in 6 px patches, 144 features
 * each), so N visual tokens are N/144 images; the decoder, which ShortV speeds up, has the real shapes.
 */
export const TOKENS_PER_IMAGE = 144;
const VISION_CONFIG = {
  model_type: 'clip_vision_model',
  hidden_size: 128,
  intermediate_size: 512,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_channels: 3,
  image_size: 72,
  patch_size: 6,
  hidden_act: 'gelu',
  layer_norm_eps: 1e-5,
};

function configJson(preset: BenchPreset): Record<string, unknown> {
  return {
    architectures: ['LlavaForConditionalGeneration'],
    model_type: 'llava',
    // The bundled tokenizer's `<image>` id (its vocabulary is a subset of every preset's).
    image_token_index: 4,
    image_seq_length: TOKENS_PER_IMAGE,
    projector_hidden_act: 'gelu',
    multimodal_projector_bias: true,
    vision_feature_layer: -2,
    vision_feature_select_strategy: 'default',
    tie_word_embeddings: preset.tieWordEmbeddings,
    vision_config: VISION_CONFIG,
    text_config: { ...preset.textConfig, bos_token_id: 1, eos_token_id: 2, pad_token_id: 3 },
  };
}

/** xorshift32 uniform values with the given standard deviation: fast enough for 7 billion weights. */
function fillUniform(out: Float32Array, std: number, state: { s: number }): void {
  const scale = (std * Math.sqrt(3)) / 2147483648;
  let s = state.s;
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = (s | 0) * scale;
  }
  state.s = s;
}

function stdFor(name: string, shape: readonly number[]): { std: number; constant?: number } {
  if (/norm|layrnorm/.test(name) && name.endsWith('.weight')) return { std: 0, constant: 1 };
  if (name.endsWith('.bias')) return { std: 0.02 };
  if (name === 'text.embed_tokens.weight' || name.includes('class_embedding')) return { std: 1 };
  if (name.includes('position_embedding')) return { std: 0.3 };
  return { std: 1 / Math.sqrt(shape.slice(1).reduce((a, b) => a * b, 1)) };
}

const CHUNK_ELEMENTS = 1 << 20;

/**
 * Writes the preset's HF folder into `dir` (atomically: a temp folder renamed into place), generating and
 * writing one chunk of one tensor at a time so a 7B checkpoint never needs more than a few MB of memory.
 */
export async function writePresetFolder(preset: BenchPreset, dir: string): Promise<void> {
  const temp = `${dir}.${process.pid}.tmp`;
  await rm(temp, { recursive: true, force: true });
  await mkdir(temp, { recursive: true });
  const json = configJson(preset);
  const config = parseLlavaConfig(json);
  const shapes = [...expectedTensors(config)];
  const bytesPer = preset.dtype === 'float32' ? 4 : 2;
  const dtypeName = preset.dtype === 'float32' ? 'F32' : 'BF16';
  const shardOf = (i: number) => Math.floor((i * preset.shards) / shapes.length);
  const fileName = (s: number) =>
    preset.shards === 1
      ? 'model.safetensors'
      : `model-${String(s + 1).padStart(5, '0')}-of-${String(preset.shards).padStart(5, '0')}.safetensors`;
  const weightMap: Record<string, string> = {};
  const state = { s: 0x9e3779b9 };
  for (let shard = 0; shard < preset.shards; shard++) {
    const mine = shapes.filter((_, i) => shardOf(i) === shard);
    const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    let offset = 0;
    for (const [name, shape] of mine) {
      const bytes = shape.reduce((a, b) => a * b, 1) * bytesPer;
      header[hfKey(name, 'legacy')] = { dtype: dtypeName, shape, data_offsets: [offset, offset + bytes] };
      weightMap[hfKey(name, 'legacy')] = fileName(shard);
      offset += bytes;
    }
    let headerText = JSON.stringify(header);
    headerText += ' '.repeat((8 - (headerText.length % 8)) % 8);
    const handle = await open(join(temp, fileName(shard)), 'w');
    try {
      const prefix = new Uint8Array(8);
      new DataView(prefix.buffer).setBigUint64(0, BigInt(headerText.length), true);
      await handle.write(prefix);
      await handle.write(new TextEncoder().encode(headerText));
      const chunk = new Float32Array(CHUNK_ELEMENTS);
      for (const [name, shape] of mine) {
        const { std, constant } = stdFor(name, shape);
        let left = shape.reduce((a, b) => a * b, 1);
        while (left > 0) {
          const part = chunk.subarray(0, Math.min(left, CHUNK_ELEMENTS));
          if (constant !== undefined) part.fill(constant);
          else fillUniform(part, std, state);
          const out = preset.dtype === 'float32' ? part : float32ToBfloat16(part);
          await handle.write(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
          left -= part.length;
        }
      }
    } finally {
      await handle.close();
    }
  }
  if (preset.shards > 1) {
    await writeFile(
      join(temp, 'model.safetensors.index.json'),
      JSON.stringify({ metadata: {}, weight_map: weightMap }, null, 2),
    );
  }
  await writeFile(join(temp, 'config.json'), `${JSON.stringify(json, null, 2)}\n`);
  for (const file of await readdir(modelShapesDir())) {
    if (file === 'config.json' || file.endsWith('.safetensors') || file === 'README.md') continue;
    await copyFile(join(modelShapesDir(), file), join(temp, file));
  }
  await rm(dir, { recursive: true, force: true });
  await rename(temp, dir);
}

/** The preset's folder under `root`, generated when missing. */
export async function presetFolder(preset: BenchPreset, root: string): Promise<string> {
  const dir = join(root, 'presets', preset.name);
  const ready = await stat(join(dir, 'config.json')).then(
    () => true,
    () => false,
  );
  if (!ready) await writePresetFolder(preset, dir);
  return dir;
}
