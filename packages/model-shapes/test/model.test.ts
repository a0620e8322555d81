import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { MODEL_SHAPES_FILES, MODEL_SHAPES_GOLDEN_FILES, type ModelShapesGolden } from '../src/index.ts';
import {
  modelShapesDir,
  modelShapesFilePath,
  modelShapesGoldenPath,
  modelShapesMetricsPath,
  modelShapesPackageDir,
  modelShapesSamplesDir,
} from '../src/node/index.ts';

type Json = Record<string, unknown>;

function readJson(path: string): Json {
  return JSON.parse(readFileSync(path, 'utf8')) as Json;
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** The JSON header of a safetensors file: 8-byte little-endian length, then that many bytes. */
function safetensorsHeader(path: string): { header: Record<string, HeaderEntry>; dataStart: number } {
  const bytes = readFileSync(path);
  const length = Number(bytes.readBigUInt64LE(0));
  const parsed = JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')) as Record<string, unknown>;
  delete parsed.__metadata__;
  return { header: parsed as Record<string, HeaderEntry>, dataStart: 8 + length };
}

const config = readJson(modelShapesFilePath('config.json'));
const vision = config.vision_config as Json;
const text = config.text_config as Json;

/** Tensor names and shapes a transformers 5 LlavaForConditionalGeneration saves for this config. */
function expectedTensors(): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const dv = vision.hidden_size as number;
  const fv = vision.intermediate_size as number;
  const patch = vision.patch_size as number;
  const positions = ((vision.image_size as number) / patch) ** 2 + 1;
  const v = 'model.vision_tower.vision_model.';
  out.set(`${v}embeddings.class_embedding`, [dv]);
  out.set(`${v}embeddings.patch_embedding.weight`, [dv, vision.num_channels as number, patch, patch]);
  out.set(`${v}embeddings.position_embedding.weight`, [positions, dv]);
  for (const ln of ['pre_layrnorm', 'post_layernorm']) {
    out.set(`${v}${ln}.weight`, [dv]);
    out.set(`${v}${ln}.bias`, [dv]);
  }
  for (let i = 0; i < (vision.num_hidden_layers as number); i++) {
    const l = `${v}encoder.layers.${i}.`;
    for (const p of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
      out.set(`${l}self_attn.${p}.weight`, [dv, dv]);
      out.set(`${l}self_attn.${p}.bias`, [dv]);
    }
    for (const ln of ['layer_norm1', 'layer_norm2']) {
      out.set(`${l}${ln}.weight`, [dv]);
      out.set(`${l}${ln}.bias`, [dv]);
    }
    out.set(`${l}mlp.fc1.weight`, [fv, dv]);
    out.set(`${l}mlp.fc1.bias`, [fv]);
    out.set(`${l}mlp.fc2.weight`, [dv, fv]);
    out.set(`${l}mlp.fc2.bias`, [dv]);
  }
  const d = text.hidden_size as number;
  const f = text.intermediate_size as number;
  const vocab = text.vocab_size as number;
  const headDim = text.head_dim as number;
  const q = (text.num_attention_heads as number) * headDim;
  const kv = (text.num_key_value_heads as number) * headDim;
  out.set('model.multi_modal_projector.linear_1.weight', [d, dv]);
  out.set('model.multi_modal_projector.linear_1.bias', [d]);
  out.set('model.multi_modal_projector.linear_2.weight', [d, d]);
  out.set('model.multi_modal_projector.linear_2.bias', [d]);
  const t = 'model.language_model.';
  out.set(`${t}embed_tokens.weight`, [vocab, d]);
  out.set(`${t}norm.weight`, [d]);
  for (let i = 0; i < (text.num_hidden_layers as number); i++) {
    const l = `${t}layers.${i}.`;
    out.set(`${l}input_layernorm.weight`, [d]);
    out.set(`${l}post_attention_layernorm.weight`, [d]);
    out.set(`${l}self_attn.q_proj.weight`, [q, d]);
    out.set(`${l}self_attn.k_proj.weight`, [kv, d]);
    out.set(`${l}self_attn.v_proj.weight`, [kv, d]);
    out.set(`${l}self_attn.o_proj.weight`, [d, q]);
    out.set(`${l}mlp.gate_proj.weight`, [f, d]);
    out.set(`${l}mlp.up_proj.weight`, [f, d]);
    out.set(`${l}mlp.down_proj.weight`, [d, f]);
  }
  if (config.tie_word_embeddings !== true) out.set('lm_head.weight', [vocab, d]);
  return out;
}

describe('bundled model folder', () => {
  it('has every listed file, and the JSON ones parse', () => {
    expect(existsSync(modelShapesDir())).toBe(true);
    for (const file of MODEL_SHAPES_FILES) {
      const path = modelShapesFilePath(file);
      expect(existsSync(path), path).toBe(true);
      if (file.endsWith('.json')) expect(() => readJson(path)).not.toThrow();
    }
    for (const file of MODEL_SHAPES_GOLDEN_FILES) {
      expect(existsSync(join(modelShapesPackageDir(), file)), file).toBe(true);
    }
  });

  it('describes a LLaVA with a CLIP vision tower and a GQA Llama of at least 12 layers', () => {
    expect(config.model_type).toBe('llava');
    expect(vision.model_type).toBe('clip_vision_model');
    expect(text.model_type).toBe('llama');
    expect(config.vision_feature_layer).toBe(-2);
    expect(config.vision_feature_select_strategy).toBe('default');
    expect(text.num_hidden_layers as number).toBeGreaterThanOrEqual(12);
    expect(text.num_key_value_heads as number).toBeLessThan(text.num_attention_heads as number);
    const grid = (vision.image_size as number) / (vision.patch_size as number);
    expect(config.image_seq_length).toBe(grid * grid);
    expect(config.image_seq_length as number).toBeGreaterThanOrEqual(100);
  });

  it('holds exactly the tensors the config implies, float32, packed back to back, within 25 MB', () => {
    const path = modelShapesFilePath('model.safetensors');
    const { header, dataStart } = safetensorsHeader(path);
    const expected = expectedTensors();
    expect(Object.keys(header).sort()).toEqual([...expected.keys()].sort());
    const ranges: [number, number][] = [];
    for (const [name, entry] of Object.entries(header)) {
      expect(entry.dtype, name).toBe('F32');
      expect(entry.shape, name).toEqual(expected.get(name));
      const elements = entry.shape.reduce((a, b) => a * b, 1);
      expect(entry.data_offsets[1] - entry.data_offsets[0], name).toBe(elements * 4);
      ranges.push(entry.data_offsets);
    }
    ranges.sort((a, b) => a[0] - b[0]);
    let at = 0;
    for (const [start, end] of ranges) {
      expect(start).toBe(at);
      at = end;
    }
    const size = statSync(path).size;
    expect(size).toBe(dataStart + at);
    expect(size).toBeLessThanOrEqual(25 * 1024 * 1024);
  });

  it('has a CLIP preprocessor matching the vision tower and a generation config with the tokenizer ids', () => {
    const pre = readJson(modelShapesFilePath('preprocessor_config.json'));
    expect(pre.image_processor_type).toBe('CLIPImageProcessor');
    expect((pre.crop_size as Json).height).toBe(vision.image_size);
    expect((pre.size as Json).shortest_edge).toBe(vision.image_size);
    const gen = readJson(modelShapesFilePath('generation_config.json'));
    const tokenizer = readJson(modelShapesFilePath('tokenizer.json'));
    const vocab = (tokenizer.model as Json).vocab as Record<string, number>;
    expect(gen.bos_token_id).toBe(vocab['<s>']);
    expect(gen.eos_token_id).toBe(vocab['</s>']);
    expect(gen.pad_token_id).toBe(vocab['<pad>']);
    expect(config.image_token_index).toBe(vocab['<image>']);
    expect(Object.keys(vocab)).toHaveLength(text.vocab_size as number);
  });
});

describe('tokenizer and chat template', () => {
  const tokenizerJson = readJson(modelShapesFilePath('tokenizer.json'));
  const tokenizerConfig = readJson(modelShapesFilePath('tokenizer_config.json'));
  const golden = readJson(modelShapesGoldenPath()) as unknown as ModelShapesGolden;
  const tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
  const template = new Template(tokenizerConfig.chat_template as string);
  const render = (question: string) =>
    template.render({
      messages: [{ role: 'user', content: question }],
      bos_token: tokenizerConfig.bos_token,
      eos_token: tokenizerConfig.eos_token,
    });

  it('renders the golden prompt text from the chat template', () => {
    expect(golden.samples.length).toBe(8);
    for (const sample of golden.samples) expect(render(sample.question)).toBe(sample.prompt_text);
  });

  it('reproduces the golden prompt ids with one image token', () => {
    for (const sample of golden.samples) {
      const ids = tokenizer.encode(render(sample.question)).ids;
      expect(ids).toEqual(sample.prompt_ids);
      expect(ids.filter((id: number) => id === config.image_token_index)).toHaveLength(1);
      expect(ids[sample.image_token_index]).toBe(config.image_token_index);
      expect(sample.expanded_length).toBe(ids.length - 1 + (config.image_seq_length as number));
    }
  });

  it('renders a multi-part user message and an assistant turn the LLaVA way', () => {
    const rendered = template.render({
      messages: [
        { role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'how many objects are there?' }] },
        { role: 'assistant', content: '3' },
      ],
      bos_token: '<s>',
      eos_token: '</s>',
    });
    expect(rendered).toBe('<s>USER: <image>\nhow many objects are there? ASSISTANT: 3</s>');
    const ids = tokenizer.encode(rendered).ids;
    expect(tokenizer.decode(ids, { skip_special_tokens: true })).toBe(
      'user : how many objects are there? assistant : 3',
    );
  });

  it('decodes the golden greedy answers', () => {
    for (const sample of golden.samples) {
      expect(tokenizer.decode(sample.greedy_ids, { skip_special_tokens: true }).trim()).toBe(
        sample.greedy_text,
      );
    }
  });

  it('maps words outside the vocabulary to <unk>', () => {
    const unk = tokenizer.token_to_id('<unk>');
    expect(tokenizer.encode('what color is the hexagon?').ids).toContain(unk);
  });
});

describe('golden outputs', () => {
  const golden = readJson(modelShapesGoldenPath()) as unknown as ModelShapesGolden;

  it('has full-vocabulary logits, one norm per decoder layer and sample images on disk', () => {
    for (const sample of golden.samples) {
      expect(sample.last_logits).toHaveLength(text.vocab_size as number);
      const argmax = sample.last_logits.indexOf(Math.max(...sample.last_logits));
      expect(argmax).toBe(sample.last_argmax);
      expect(sample.greedy_ids[0]).toBe(sample.last_argmax);
      expect(sample.layer_last_token_norms).toHaveLength(text.num_hidden_layers as number);
      expect(existsSync(join(modelShapesPackageDir(), sample.image))).toBe(true);
      expect(sample.image.startsWith('samples/')).toBe(true);
    }
    expect(existsSync(modelShapesSamplesDir())).toBe(true);
  });

  // The project's bar for a bundled model: >= 0.65 on held-out single-answer questions (target 0.80),
  // and the image must matter (a blank image scores <= 0.40).
  it('records test accuracy on >= 1000 questions, >= 0.65 overall, that depends on the image', () => {
    const metrics = readJson(modelShapesMetricsPath());
    expect(metrics.questions as number).toBeGreaterThanOrEqual(1000);
    const withImage = (metrics.accuracy as Json).overall as number;
    const blank = (metrics.blank_image_accuracy as Json).overall as number;
    expect(withImage).toBeGreaterThanOrEqual(0.65);
    expect(blank).toBeLessThanOrEqual(0.4);
  });
});
