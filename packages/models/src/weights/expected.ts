import type { LlavaConfig } from '../config/types.ts';
import { textLayerName, visionLayerName } from './names.ts';

/** Every tensor the model reads, by canonical name, with the shape config.json implies. */
export type ExpectedTensors = Map<string, readonly number[]>;

function textTensors(config: LlavaConfig, out: ExpectedTensors): void {
  const t = config.text;
  const d = t.hiddenSize;
  const q = t.numHeads * t.headDim;
  const kv = t.numKvHeads * t.headDim;
  const ff = t.intermediateSize;
  out.set('text.embed_tokens.weight', [t.vocabSize, d]);
  for (let i = 0; i < t.numLayers; i++) {
    const add = (suffix: string, shape: number[]) => out.set(textLayerName(i, suffix), shape);
    add('input_layernorm.weight', [d]);
    add('post_attention_layernorm.weight', [d]);
    for (const [proj, rows] of [
      ['q_proj', q],
      ['k_proj', kv],
      ['v_proj', kv],
    ] as const) {
      add(`self_attn.${proj}.weight`, [rows, d]);
      if (t.qkvBias) add(`self_attn.${proj}.bias`, [rows]);
    }
    add('self_attn.o_proj.weight', [d, q]);
    if (t.oBias) add('self_attn.o_proj.bias', [d]);
    add('mlp.gate_proj.weight', [ff, d]);
    add('mlp.up_proj.weight', [ff, d]);
    add('mlp.down_proj.weight', [d, ff]);
    if (t.mlpBias) {
      add('mlp.gate_proj.bias', [ff]);
      add('mlp.up_proj.bias', [ff]);
      add('mlp.down_proj.bias', [d]);
    }
  }
  out.set('text.norm.weight', [d]);
  if (!config.tieWordEmbeddings) out.set('text.lm_head.weight', [t.vocabSize, d]);
}

function visionTensors(config: LlavaConfig, out: ExpectedTensors): void {
  const v = config.vision;
  const h = v.hiddenSize;
  out.set('vision.embeddings.patch_embedding.weight', [h, v.numChannels, v.patchSize, v.patchSize]);
  if (v.patchBias) out.set('vision.embeddings.patch_embedding.bias', [h]);
  if (v.classToken) out.set('vision.embeddings.class_embedding', [h]);
  out.set('vision.embeddings.position_embedding.weight', [v.numPatches + (v.classToken ? 1 : 0), h]);
  if (v.preLayerNorm) {
    out.set('vision.pre_layrnorm.weight', [h]);
    out.set('vision.pre_layrnorm.bias', [h]);
  }
  // Layers past the deepest feature layer (and post_layernorm) never touch the features LLaVA uses.
  for (let i = 0; i < config.visionLayersUsed; i++) {
    const add = (suffix: string, shape: number[]) => out.set(visionLayerName(i, suffix), shape);
    for (const norm of ['layer_norm1', 'layer_norm2']) {
      add(`${norm}.weight`, [h]);
      add(`${norm}.bias`, [h]);
    }
    for (const proj of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
      add(`self_attn.${proj}.weight`, [h, h]);
      add(`self_attn.${proj}.bias`, [h]);
    }
    add('mlp.fc1.weight', [v.intermediateSize, h]);
    add('mlp.fc1.bias', [v.intermediateSize]);
    add('mlp.fc2.weight', [h, v.intermediateSize]);
    add('mlp.fc2.bias', [h]);
  }
}

function projectorTensors(config: LlavaConfig, out: ExpectedTensors): void {
  const d = config.text.hiddenSize;
  out.set('projector.linear_1.weight', [d, config.projectorInputSize]);
  out.set('projector.linear_2.weight', [d, d]);
  if (config.projectorBias) {
    out.set('projector.linear_1.bias', [d]);
    out.set('projector.linear_2.bias', [d]);
  }
}

export function expectedTensors(config: LlavaConfig): ExpectedTensors {
  const out: ExpectedTensors = new Map();
  textTensors(config, out);
  visionTensors(config, out);
  projectorTensors(config, out);
  return out;
}
