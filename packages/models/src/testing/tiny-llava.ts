import { castTensor, Tensor, writeSafetensors } from '@shortv/tensor';
import { parseLlavaConfig } from '../config/parse.ts';
import type { LlavaConfig } from '../config/types.ts';
import { expectedTensors } from '../weights/expected.ts';
import { hfKey, visionLayerName } from '../weights/names.ts';
import { SeededRandom } from './random.ts';

export interface TinyLlavaOptions {
  readonly text?: 'llama' | 'qwen2' | 'mistral';
  readonly vision?: 'clip' | 'siglip';
  /** Default 4 (= heads, plain MHA); 2 or 1 for GQA / MQA. */
  readonly numKvHeads?: number;
  readonly seed?: number;
  /** Checkpoint key layout: `legacy` (language_model.model.*) or `current` (model.language_model.*). */
  readonly layout?: 'legacy' | 'current';
  readonly dtype?: 'float32' | 'float16' | 'bfloat16';
  readonly tieWordEmbeddings?: boolean;
  /** Split the weights into this many shards with a model.safetensors.index.json. Default 1. */
  readonly shards?: number;
  readonly numLayers?: number;
  /** Merged over the generated text_config / vision_config / top level (e.g. rope_scaling). */
  readonly textConfig?: Readonly<Record<string, unknown>>;
  readonly visionConfig?: Readonly<Record<string, unknown>>;
  readonly llavaConfig?: Readonly<Record<string, unknown>>;
}

export interface TinyLlavaCheckpoint {
  /** config.json as an object. */
  readonly configJson: Record<string, unknown>;
  readonly config: LlavaConfig;
  /** Checkpoint tensors by HF key (in the chosen layout and dtype). */
  readonly tensors: Map<string, Tensor>;
}

/** The config.json of a tiny random LLaVA: hidden 32, 4 heads, 3 layers, 16 px images in 4 px patches. */
function tinyConfigJson(o: TinyLlavaOptions): Record<string, unknown> {
  const text = o.text ?? 'llama';
  const clip = (o.vision ?? 'clip') === 'clip';
  const textConfig: Record<string, unknown> = {
    model_type: text,
    vocab_size: 64,
    hidden_size: 32,
    intermediate_size: 64,
    num_hidden_layers: o.numLayers ?? 3,
    num_attention_heads: 4,
    num_key_value_heads: o.numKvHeads ?? 4,
    max_position_embeddings: 256,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    hidden_act: 'silu',
    tie_word_embeddings: o.tieWordEmbeddings ?? false,
    ...(text === 'mistral' ? { sliding_window: 4096 } : {}),
    ...o.textConfig,
  };
  const visionConfig: Record<string, unknown> = {
    model_type: clip ? 'clip_vision_model' : 'siglip_vision_model',
    hidden_size: 32,
    intermediate_size: 64,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_channels: 3,
    image_size: 16,
    patch_size: 4,
    hidden_act: clip ? 'quick_gelu' : 'gelu_pytorch_tanh',
    layer_norm_eps: clip ? 1e-5 : 1e-6,
    ...o.visionConfig,
  };
  return {
    architectures: ['LlavaForConditionalGeneration'],
    model_type: 'llava',
    image_token_index: 63,
    projector_hidden_act: 'gelu',
    // LLaVA-1.5 style for CLIP (penultimate layer, class token dropped); SigLIP LLaVAs use the last layer, all rows.
    vision_feature_layer: clip ? -2 : -1,
    vision_feature_select_strategy: clip ? 'default' : 'full',
    multimodal_projector_bias: true,
    tie_word_embeddings: o.tieWordEmbeddings ?? false,
    text_config: textConfig,
    vision_config: visionConfig,
    ...o.llavaConfig,
  };
}

/** Initial values that keep activations O(1): fan-in scaled matrices, norms near 1, small biases. */
function randomTensor(rng: SeededRandom, name: string, shape: readonly number[]): Tensor<'float32'> {
  const n = shape.reduce((a, b) => a * b, 1);
  let data: Float32Array;
  if (/norm|layrnorm/.test(name) && name.endsWith('.weight')) data = rng.normalArray(n, 0.1, 1);
  else if (name.endsWith('.bias')) data = rng.normalArray(n, 0.1);
  else if (name === 'text.embed_tokens.weight' || name.includes('class_embedding'))
    data = rng.normalArray(n, 1);
  else if (name.includes('position_embedding')) data = rng.normalArray(n, 0.3);
  else {
    const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
    data = rng.normalArray(n, 1 / Math.sqrt(fanIn));
  }
  return new Tensor('float32', data, shape);
}

/** A random-weight LLaVA checkpoint in memory, deterministic in its options. */
export function tinyLlavaCheckpoint(options: TinyLlavaOptions = {}): TinyLlavaCheckpoint {
  const configJson = tinyConfigJson(options);
  const config = parseLlavaConfig(configJson);
  const rng = new SeededRandom(options.seed ?? 1);
  const layout = options.layout ?? 'legacy';
  const dtype = options.dtype ?? 'float32';
  const shapes = expectedTensors(config);
  // Real checkpoints carry the whole tower, including layers past the feature layer and post_layernorm.
  const v = config.vision;
  for (let i = config.visionLayersUsed; i < v.numLayers; i++) {
    shapes.set(visionLayerName(i, 'mlp.fc1.weight'), [v.intermediateSize, v.hiddenSize]);
  }
  shapes.set('vision.post_layernorm.weight', [v.hiddenSize]);
  shapes.set('vision.post_layernorm.bias', [v.hiddenSize]);
  const tensors = new Map<string, Tensor>();
  for (const [name, shape] of shapes) {
    const t = randomTensor(rng, name, shape);
    tensors.set(hfKey(name, layout), dtype === 'float32' ? t : castTensor(t, dtype));
  }
  return { configJson, config, tensors };
}

/** The files of a checkpoint folder: config.json and one or more safetensors files. */
export function checkpointFiles(
  checkpoint: Pick<TinyLlavaCheckpoint, 'configJson' | 'tensors'>,
  shards = 1,
): Record<string, Uint8Array | string> {
  const files: Record<string, Uint8Array | string> = {
    'config.json': `${JSON.stringify(checkpoint.configJson, null, 2)}\n`,
  };
  if (shards <= 1) {
    files['model.safetensors'] = writeSafetensors(checkpoint.tensors, { format: 'pt' });
    return files;
  }
  const parts: Map<string, Tensor>[] = Array.from({ length: shards }, () => new Map());
  const weightMap: Record<string, string> = {};
  const fileName = (i: number) =>
    `model-${String(i + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
  [...checkpoint.tensors.entries()].forEach(([key, t], i) => {
    parts[i % shards]!.set(key, t);
    weightMap[key] = fileName(i % shards);
  });
  parts.forEach((part, i) => {
    files[fileName(i)] = writeSafetensors(part, { format: 'pt' });
  });
  files['model.safetensors.index.json'] = JSON.stringify({ metadata: {}, weight_map: weightMap }, null, 2);
  return files;
}

export function tinyLlavaFiles(options: TinyLlavaOptions = {}): Record<string, Uint8Array | string> {
  return checkpointFiles(tinyLlavaCheckpoint(options), options.shards ?? 1);
}
