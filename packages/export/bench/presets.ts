import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { modelShapesDir } from '@shortv/model-shapes/node';
import { createTinyLlava, type TinyLlavaOptions } from '@shortv/models/testing';

/** A random-weight model with a real model's shapes, for timing only (its answers mean nothing). */
export interface Preset {
  readonly description: string;
  readonly options: TinyLlavaOptions;
  readonly imageSize: number;
  readonly patchSize: number;
  readonly frozen: number[];
}

export const PRESETS: Record<string, Preset> = {
  // LLaVA-OneVision-0.5B's language model (Qwen2-0.5B) and its 729 visual tokens per 384 px image. The SigLIP
  // tower keeps its width but only 2 of its 27 layers: it runs outside the timed prefill on both sides, and
  // six copies of the full tower (two stacks, two forms, weights and sessions) would not fit in memory here.
  'onevision-0.5b': {
    description:
      'Qwen2-0.5B LM: 24 layers, d 896, 14 heads / 2 KV, FFN 4864, vocab 151646; 729 visual tokens',
    imageSize: 384,
    patchSize: 14,
    frozen: [0, 1, 2, 3, 12, 13, 14, 15, 16, 17, 18, 19, 20, 23],
    options: {
      text: 'qwen2',
      vision: 'siglip',
      numKvHeads: 2,
      tieWordEmbeddings: true,
      shards: 2,
      textConfig: {
        vocab_size: 151646,
        hidden_size: 896,
        intermediate_size: 4864,
        num_hidden_layers: 24,
        num_attention_heads: 14,
        num_key_value_heads: 2,
        max_position_embeddings: 32768,
        rope_theta: 1000000,
        rms_norm_eps: 1e-6,
        bos_token_id: 1,
        eos_token_id: 2,
      },
      visionConfig: {
        hidden_size: 1152,
        intermediate_size: 4304,
        num_hidden_layers: 2,
        num_attention_heads: 16,
        image_size: 384,
        patch_size: 14,
      },
      llavaConfig: { image_token_index: 4, image_seq_length: 729 },
    },
  },
};

/** Writes the preset's folder: random weights, plus the bundled model's tokenizer and a processor for its size. */
export async function createPreset(preset: Preset, dir: string): Promise<void> {
  await createTinyLlava(dir, preset.options);
  const bundled = modelShapesDir();
  for (const f of [
    'tokenizer.json',
    'tokenizer_config.json',
    'special_tokens_map.json',
    'generation_config.json',
  ]) {
    await copyFile(join(bundled, f), join(dir, f));
  }
  const pre = JSON.parse(await readFile(join(bundled, 'preprocessor_config.json'), 'utf8'));
  pre.size = { shortest_edge: preset.imageSize };
  pre.crop_size = { height: preset.imageSize, width: preset.imageSize };
  await writeFile(join(dir, 'preprocessor_config.json'), JSON.stringify(pre, null, 2));
  const proc = JSON.parse(await readFile(join(bundled, 'processor_config.json'), 'utf8'));
  proc.patch_size = preset.patchSize;
  proc.vision_feature_select_strategy = 'full';
  await writeFile(join(dir, 'processor_config.json'), JSON.stringify(proc, null, 2));
}
