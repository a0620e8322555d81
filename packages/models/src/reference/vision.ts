import { ShortvError, Tensor } from '@shortv/tensor';
import type { LlavaConfig } from '../config/types.ts';
import { visionLayerName } from '../weights/names.ts';
import {
  activateMatrix,
  add,
  hasWeight,
  layerNorm,
  linear,
  type Matrix,
  matrix,
  softmaxInPlace,
  type WeightMap,
  weight,
} from './math.ts';

/** Patch embedding: a stride-p convolution with a p x p kernel, patches in row-major order. */
function patchEmbed(config: LlavaConfig, weights: WeightMap, pixels: Float32Array, offset: number): Matrix {
  const v = config.vision;
  const p = v.patchSize;
  const side = v.imageSize;
  const w = weight(weights, 'vision.embeddings.patch_embedding.weight').data;
  const bias = v.patchBias ? weight(weights, 'vision.embeddings.patch_embedding.bias').data : null;
  const out = matrix(v.numPatches, v.hiddenSize);
  for (let py = 0; py < v.patchesPerSide; py++) {
    for (let px = 0; px < v.patchesPerSide; px++) {
      const row = py * v.patchesPerSide + px;
      for (let o = 0; o < v.hiddenSize; o++) {
        let acc = bias ? bias[o]! : 0;
        for (let c = 0; c < v.numChannels; c++) {
          for (let ky = 0; ky < p; ky++) {
            for (let kx = 0; kx < p; kx++) {
              const pix = pixels[offset + (c * side + py * p + ky) * side + px * p + kx]!;
              acc += pix * w[((o * v.numChannels + c) * p + ky) * p + kx]!;
            }
          }
        }
        out.data[row * v.hiddenSize + o] = acc;
      }
    }
  }
  return out;
}

function embeddings(config: LlavaConfig, weights: WeightMap, pixels: Float32Array, offset: number): Matrix {
  const v = config.vision;
  const patches = patchEmbed(config, weights, pixels, offset);
  const rows = v.numPatches + (v.classToken ? 1 : 0);
  const h = matrix(rows, v.hiddenSize);
  const first = v.classToken ? 1 : 0;
  if (v.classToken) h.data.set(weight(weights, 'vision.embeddings.class_embedding').data, 0);
  h.data.set(patches.data, first * v.hiddenSize);
  const pos = weight(weights, 'vision.embeddings.position_embedding.weight').data;
  for (let i = 0; i < h.data.length; i++) h.data[i] = h.data[i]! + pos[i]!;
  if (!v.preLayerNorm) return h;
  return layerNorm(
    h,
    weight(weights, 'vision.pre_layrnorm.weight'),
    weight(weights, 'vision.pre_layrnorm.bias'),
    v.layerNormEps,
  );
}

/** Bidirectional multi-head self-attention, scale 1/sqrt(head_dim), as in CLIP/SigLIP encoders. */
function encoderAttention(config: LlavaConfig, weights: WeightMap, layer: number, x: Matrix): Matrix {
  const v = config.vision;
  const name = (s: string) => visionLayerName(layer, s);
  const proj = (p: string, input: Matrix) =>
    linear(
      input,
      weight(weights, name(`self_attn.${p}.weight`)),
      weight(weights, name(`self_attn.${p}.bias`)),
    );
  const q = proj('q_proj', x);
  const k = proj('k_proj', x);
  const val = proj('v_proj', x);
  const n = x.rows;
  const hd = v.headDim;
  const ctx = matrix(n, v.hiddenSize);
  const scores = new Float64Array(n);
  for (let head = 0; head < v.numHeads; head++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let dot = 0;
        for (let c = 0; c < hd; c++)
          dot += q.data[i * v.hiddenSize + head * hd + c]! * k.data[j * v.hiddenSize + head * hd + c]!;
        scores[j] = dot / Math.sqrt(hd);
      }
      softmaxInPlace(scores);
      for (let c = 0; c < hd; c++) {
        let acc = 0;
        for (let j = 0; j < n; j++) acc += scores[j]! * val.data[j * v.hiddenSize + head * hd + c]!;
        ctx.data[i * v.hiddenSize + head * hd + c] = acc;
      }
    }
  }
  return proj('out_proj', ctx);
}

function encoderLayer(config: LlavaConfig, weights: WeightMap, layer: number, h: Matrix): Matrix {
  const v = config.vision;
  const name = (s: string) => visionLayerName(layer, s);
  const ln = (which: string, x: Matrix) =>
    layerNorm(
      x,
      weight(weights, name(`${which}.weight`)),
      weight(weights, name(`${which}.bias`)),
      v.layerNormEps,
    );
  const h1 = add(h, encoderAttention(config, weights, layer, ln('layer_norm1', h)));
  const inner = activateMatrix(
    linear(
      ln('layer_norm2', h1),
      weight(weights, name('mlp.fc1.weight')),
      weight(weights, name('mlp.fc1.bias')),
    ),
    v.hiddenAct,
  );
  return add(
    h1,
    linear(inner, weight(weights, name('mlp.fc2.weight')), weight(weights, name('mlp.fc2.bias'))),
  );
}

/**
 * Vision tower hidden states for one image: entry k is the state after k encoder layers (entry 0: embeddings,
 * after pre-LN for CLIP), up to the deepest layer LLaVA reads.
 */
export function referenceVisionStates(
  config: LlavaConfig,
  weights: WeightMap,
  pixels: Float32Array,
  offset = 0,
): Matrix[] {
  const states = [embeddings(config, weights, pixels, offset)];
  for (let layer = 0; layer < config.visionLayersUsed; layer++) {
    states.push(encoderLayer(config, weights, layer, states[layer]!));
  }
  return states;
}

/** Selected features (concatenated over feature layers, first row dropped under `default`) through the projector. */
export function referenceImageFeatures(
  config: LlavaConfig,
  weights: WeightMap,
  pixelValues: Tensor<'float32'>,
): Tensor<'float32'> {
  const v = config.vision;
  const [batch, channels, height, width] = pixelValues.dims as [number, number, number, number];
  if (channels !== v.numChannels || height !== v.imageSize || width !== v.imageSize) {
    throw new ShortvError(
      'E_MODEL_INPUT',
      `pixel_values must be [B, ${v.numChannels}, ${v.imageSize}, ${v.imageSize}], got [${pixelValues.dims.join(', ')}]`,
    );
  }
  const d = config.text.hiddenSize;
  const nv = config.imageSeqLength;
  const out = new Float32Array(batch * nv * d);
  const skip = config.visionFeatureSelectStrategy === 'default' ? 1 : 0;
  for (let b = 0; b < batch; b++) {
    const states = referenceVisionStates(config, weights, pixelValues.data, b * channels * height * width);
    const selected = matrix(nv, config.projectorInputSize);
    config.visionFeatureLayers.forEach((layer, part) => {
      const s = states[layer]!;
      for (let r = 0; r < nv; r++) {
        for (let c = 0; c < v.hiddenSize; c++) {
          selected.data[r * selected.cols + part * v.hiddenSize + c] = s.data[(r + skip) * v.hiddenSize + c]!;
        }
      }
    });
    const bias = (n: string) => (hasWeight(weights, n) ? weight(weights, n) : undefined);
    const hidden = activateMatrix(
      linear(selected, weight(weights, 'projector.linear_1.weight'), bias('projector.linear_1.bias')),
      config.projectorHiddenAct,
    );
    const projected = linear(
      hidden,
      weight(weights, 'projector.linear_2.weight'),
      bias('projector.linear_2.bias'),
    );
    out.set(projected.data, b * nv * d);
  }
  return new Tensor('float32', out, [batch, nv, d]);
}
