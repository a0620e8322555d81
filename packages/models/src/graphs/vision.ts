import { GraphBuilder, type ModelProto } from '@shortv/onnx';
import type { LlavaConfig } from '../config/types.ts';
import type { WeightMap } from '../reference/math.ts';
import { visionLayerName } from '../weights/names.ts';
import {
  activation,
  type EmitContext,
  emitContext,
  layerNorm,
  linear,
  plainWeight,
  reshapedWeight,
  scalar,
  type V,
} from './common.ts';

/** Bidirectional self-attention of a CLIP/SigLIP encoder layer over x [B, N, h]. */
function encoderAttention(ctx: EmitContext, layer: number, x: V): V {
  const { g } = ctx;
  const v = ctx.config.vision;
  const name = (p: string) => visionLayerName(layer, `self_attn.${p}`);
  const heads = (y: V) =>
    g.op.Transpose(g.op.Reshape(y, g.int64s([0, 0, v.numHeads, v.headDim])), { perm: [0, 2, 1, 3] });
  return g.scope('self_attn', () => {
    const q = heads(linear(ctx, x, name('q_proj'), 'q_proj', true));
    const k = heads(linear(ctx, x, name('k_proj'), 'k_proj', true));
    const val = heads(linear(ctx, x, name('v_proj'), 'v_proj', true));
    const scores = g.op.Mul(
      g.op.MatMul(q, g.op.Transpose(k, { perm: [0, 1, 3, 2] })),
      scalar(ctx, 1 / Math.sqrt(v.headDim)),
    );
    const context = g.op.MatMul(g.op.Softmax(scores, { axis: -1 }), val);
    const merged = g.op.Reshape(
      g.op.Transpose(context, { perm: [0, 2, 1, 3] }),
      g.int64s([0, 0, v.hiddenSize]),
    );
    return linear(ctx, merged, name('out_proj'), 'out_proj', true);
  });
}

function encoderLayer(ctx: EmitContext, layer: number, h: V): V {
  const { g } = ctx;
  return g.scope(`layers.${layer}`, () => {
    const name = (s: string) => visionLayerName(layer, s);
    const h1 = g.op.Add(
      h,
      encoderAttention(ctx, layer, layerNorm(ctx, h, name('layer_norm1'), 'layer_norm1')),
    );
    const x = layerNorm(ctx, h1, name('layer_norm2'), 'layer_norm2');
    const mlp = g.scope('mlp', () => {
      const inner = activation(
        ctx,
        linear(ctx, x, name('mlp.fc1'), 'fc1', true),
        ctx.config.vision.hiddenAct,
      );
      return linear(ctx, inner, name('mlp.fc2'), 'fc2', true);
    });
    return g.op.Add(h1, mlp);
  });
}

/** Patch embedding (stride-p convolution), class token for CLIP, position embeddings, CLIP's pre-LN. */
function embeddings(ctx: EmitContext, pixels: V): V {
  const { g } = ctx;
  const v = ctx.config.vision;
  return g.scope('embeddings', () => {
    const conv = g.op.Conv(
      pixels,
      plainWeight(ctx, 'vision.embeddings.patch_embedding.weight'),
      v.patchBias ? plainWeight(ctx, 'vision.embeddings.patch_embedding.bias') : undefined,
      { kernel_shape: [v.patchSize, v.patchSize], strides: [v.patchSize, v.patchSize] },
    );
    let h = g.op.Transpose(g.op.Reshape(conv, g.int64s([0, v.hiddenSize, -1])), { perm: [0, 2, 1] });
    if (v.classToken) {
      const clsRow = reshapedWeight(ctx, 'vision.embeddings.class_embedding', [1, 1, v.hiddenSize]);
      const batch = g.op.Shape(pixels, { start: 0, end: 1 });
      const clsRows = g.op.Expand(clsRow, g.op.Concat([batch, g.int64s([1, v.hiddenSize])], { axis: 0 }));
      h = g.op.Concat([clsRows, h], { axis: 1 });
    }
    return g.op.Add(h, plainWeight(ctx, 'vision.embeddings.position_embedding.weight'));
  });
}

/**
 * The vision tower + projector as one graph: `pixel_values` [B, C, H, W] float32 -> `image_features`
 * [B, n_v, d_text]. Only the encoder layers up to the deepest feature layer are emitted.
 */
export function emitVisionGraph(config: LlavaConfig, weights: WeightMap): ModelProto {
  const g = new GraphBuilder('llava_vision');
  const ctx = emitContext(g, config, weights);
  const v = config.vision;
  const pixels = g.input('pixel_values', 'float32', ['batch', v.numChannels, v.imageSize, v.imageSize]);
  const states = g.scope('/vision_tower', () => {
    let h = embeddings(ctx, pixels);
    if (v.preLayerNorm) h = layerNorm(ctx, h, 'vision.pre_layrnorm', 'pre_layrnorm');
    const out = [h];
    for (let layer = 0; layer < config.visionLayersUsed; layer++)
      out.push(encoderLayer(ctx, layer, out[layer]!));
    return out;
  });
  const features = g.scope('/multi_modal_projector', () => {
    const picked = config.visionFeatureLayers.map((k) => states[k]!);
    let selected = picked.length === 1 ? picked[0]! : g.op.Concat(picked, { axis: -1 });
    if (config.visionFeatureSelectStrategy === 'default') {
      // HF drops the first row under `default` (CLIP's class token).
      selected = g.op.Slice(selected, g.int64s([1]), g.int64s([Number.MAX_SAFE_INTEGER]), g.int64s([1]));
    }
    const hidden = activation(
      ctx,
      linear(ctx, selected, 'projector.linear_1', 'linear_1', config.projectorBias),
      config.projectorHiddenAct,
    );
    return linear(ctx, hidden, 'projector.linear_2', 'linear_2', config.projectorBias);
  });
  g.output('image_features', 'float32', ['batch', config.imageSeqLength, config.text.hiddenSize], {
    from: features,
  });
  return g.toModel({ docString: 'LLaVA vision tower and projector: pixel_values -> image_features' });
}
