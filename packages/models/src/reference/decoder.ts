import { ShortvError, type Tensor } from '@shortv/tensor';
import type { LlavaConfig, TextConfig } from '../config/types.ts';
import { textLayerName } from '../weights/names.ts';
import {
  activate,
  hasWeight,
  linear,
  type Matrix,
  matrix,
  rmsNorm,
  softmaxInPlace,
  type WeightMap,
  weight,
} from './math.ts';

export interface ReferenceDecoderInput {
  /** [B, S, d] rows fed to layer 0 (token embeddings with image features merged in). */
  readonly inputsEmbeds: Tensor<'float32'>;
  /** [B][S] position of each row; attention is causal by these positions, not by row order. */
  readonly positionIds: readonly (readonly number[])[];
  /** [B][S] 1 = real token, 0 = padding (never attended to). Default: all ones. */
  readonly attentionMask?: readonly (readonly number[])[];
  /**
   * Per layer, per row factor on the layer's residual updates: h1 = h + m*attn, h2 = h1 + m*mlp.
   * Returns 1 for an ordinary layer. Keys and values are still computed from every row's input.
   */
  readonly updateMask?: (layer: number, batch: number, row: number) => number;
}

export interface ReferenceDecoderOutput {
  readonly batch: number;
  readonly seq: number;
  /** L + 1 entries of [B*S*d]: entry 0 is the input, entry l+1 the output of layer l. */
  readonly hiddenStates: readonly Float64Array[];
  /** [B*S*V] logits at every row. Rows of padding queries (which see no key) are left as computed from zeros. */
  readonly logits: Float64Array;
}

/** RoPE inverse frequencies, with dynamic NTK scaling keyed on the longest position in the call, as HF does. */
export function ropeInverseFrequencies(text: TextConfig, seqLen: number): Float64Array {
  const hd = text.headDim;
  let base = text.ropeTheta;
  const scaling = text.ropeScaling;
  if (scaling?.type === 'dynamic' && seqLen > text.maxPositionEmbeddings) {
    const growth = (scaling.factor * seqLen) / text.maxPositionEmbeddings - (scaling.factor - 1);
    base *= growth ** (hd / (hd - 2));
  }
  const inv = new Float64Array(hd / 2);
  for (let i = 0; i < hd / 2; i++) inv[i] = 1 / base ** ((2 * i) / hd);
  if (scaling?.type === 'linear') for (let i = 0; i < inv.length; i++) inv[i] = inv[i]! / scaling.factor;
  return inv;
}

/** Rotates each head of `x` [S, heads*hd] in place: x*cos + rotate_half(x)*sin, halves [x1, x2] -> [-x2, x1]. */
function applyRope(
  x: Matrix,
  heads: number,
  hd: number,
  positions: readonly number[],
  inv: Float64Array,
): void {
  const half = hd / 2;
  for (let r = 0; r < x.rows; r++) {
    for (let i = 0; i < half; i++) {
      const angle = positions[r]! * inv[i]!;
      const cos = Math.cos(angle);
      const sin = Math.sin(angle);
      for (let h = 0; h < heads; h++) {
        const o = r * x.cols + h * hd;
        const a = x.data[o + i]!;
        const b = x.data[o + i + half]!;
        x.data[o + i] = a * cos - b * sin;
        x.data[o + i + half] = b * cos + a * sin;
      }
    }
  }
}

function optional(weights: WeightMap, name: string): Tensor<'float32'> | undefined {
  return hasWeight(weights, name) ? weight(weights, name) : undefined;
}

/**
 * Self-attention of layer `layer` over the rows of `x`. With `probe`, the attention weights of the last row
 * averaged over heads are written into it (one entry per row).
 */
export function referenceAttention(
  text: TextConfig,
  weights: WeightMap,
  layer: number,
  x: Matrix,
  positions: readonly number[],
  mask: readonly number[],
  inv: Float64Array,
  probe?: Float64Array,
): Matrix {
  const name = (s: string) => textLayerName(layer, s);
  const proj = (p: string, input: Matrix) =>
    linear(
      input,
      weight(weights, name(`self_attn.${p}.weight`)),
      optional(weights, name(`self_attn.${p}.bias`)),
    );
  const { numHeads, numKvHeads, headDim: hd } = text;
  const q = proj('q_proj', x);
  const k = proj('k_proj', x);
  const v = proj('v_proj', x);
  applyRope(q, numHeads, hd, positions, inv);
  applyRope(k, numKvHeads, hd, positions, inv);
  const window = text.slidingWindows[layer] ?? null;
  const n = x.rows;
  const ctx = matrix(n, numHeads * hd);
  const scores = new Float64Array(n);
  const group = numHeads / numKvHeads;
  for (let h = 0; h < numHeads; h++) {
    const kvh = Math.floor(h / group);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        // Causal by position; the sliding window counts rows (cache slots), as HF's mask does.
        if (mask[j] === 0 || positions[j]! > positions[i]! || (window !== null && i - j >= window)) {
          scores[j] = Number.NEGATIVE_INFINITY;
          continue;
        }
        let dot = 0;
        for (let c = 0; c < hd; c++)
          dot += q.data[i * q.cols + h * hd + c]! * k.data[j * k.cols + kvh * hd + c]!;
        scores[j] = dot / Math.sqrt(hd);
      }
      softmaxInPlace(scores);
      if (probe && i === n - 1) for (let j = 0; j < n; j++) probe[j] = probe[j]! + scores[j]! / numHeads;
      for (let c = 0; c < hd; c++) {
        let acc = 0;
        for (let j = 0; j < n; j++) acc += scores[j]! * v.data[j * v.cols + kvh * hd + c]!;
        ctx.data[i * ctx.cols + h * hd + c] = acc;
      }
    }
  }
  return proj('o_proj', ctx);
}

export function referenceMlp(text: TextConfig, weights: WeightMap, layer: number, x: Matrix): Matrix {
  const name = (s: string) => textLayerName(layer, s);
  const lin = (p: string, input: Matrix) =>
    linear(input, weight(weights, name(`mlp.${p}.weight`)), optional(weights, name(`mlp.${p}.bias`)));
  const gate = lin('gate_proj', x);
  const up = lin('up_proj', x);
  for (let i = 0; i < gate.data.length; i++)
    gate.data[i] = activate(gate.data[i]!, text.hiddenAct) * up.data[i]!;
  return lin('down_proj', gate);
}

/** Plain decoder forward over `inputs_embeds` for tiny configs: per-layer hidden states and logits. */
export function referenceDecoder(
  config: LlavaConfig,
  weights: WeightMap,
  input: ReferenceDecoderInput,
): ReferenceDecoderOutput {
  const text = config.text;
  const [batch, seq, d] = input.inputsEmbeds.dims as [number, number, number];
  if (d !== text.hiddenSize) {
    throw new ShortvError('E_MODEL_INPUT', `inputs_embeds width ${d} is not hidden_size ${text.hiddenSize}`);
  }
  let maxPos = 0;
  for (const row of input.positionIds) for (const p of row) maxPos = Math.max(maxPos, p);
  const inv = ropeInverseFrequencies(text, maxPos + 1);
  const states: Float64Array[] = [Float64Array.from(input.inputsEmbeds.data)];
  for (let layer = 0; layer < text.numLayers; layer++) {
    const prev = states[layer]!;
    const next = new Float64Array(prev.length);
    for (let b = 0; b < batch; b++) {
      const h = matrix(seq, d, prev.slice(b * seq * d, (b + 1) * seq * d));
      const positions = input.positionIds[b]!;
      const mask = input.attentionMask?.[b] ?? new Array<number>(seq).fill(1);
      const name = (s: string) => textLayerName(layer, s);
      const factor = (row: number) => input.updateMask?.(layer, b, row) ?? 1;
      const attn = referenceAttention(
        text,
        weights,
        layer,
        rmsNorm(h, weight(weights, name('input_layernorm.weight')), text.rmsNormEps),
        positions,
        mask,
        inv,
      );
      const h1 = matrix(seq, d);
      for (let i = 0; i < h1.data.length; i++)
        h1.data[i] = h.data[i]! + factor(Math.floor(i / d)) * attn.data[i]!;
      const ff = referenceMlp(
        text,
        weights,
        layer,
        rmsNorm(h1, weight(weights, name('post_attention_layernorm.weight')), text.rmsNormEps),
      );
      for (let i = 0; i < h1.data.length; i++) {
        next[b * seq * d + i] = h1.data[i]! + factor(Math.floor(i / d)) * ff.data[i]!;
      }
    }
    states.push(next);
  }
  const last = matrix(batch * seq, d, states[text.numLayers]!);
  const normed = rmsNorm(last, weight(weights, 'text.norm.weight'), text.rmsNormEps);
  const head = config.tieWordEmbeddings ? 'text.embed_tokens.weight' : 'text.lm_head.weight';
  const logits = linear(normed, weight(weights, head));
  return { batch, seq, hiddenStates: states, logits: logits.data };
}

/** Token embedding rows for `ids` (a plain gather from embed_tokens). */
export function referenceEmbed(
  config: LlavaConfig,
  weights: WeightMap,
  ids: readonly number[],
): Float32Array {
  const table = weight(weights, 'text.embed_tokens.weight').data;
  const d = config.text.hiddenSize;
  const out = new Float32Array(ids.length * d);
  ids.forEach((id, row) => {
    if (!Number.isInteger(id) || id < 0 || id >= config.text.vocabSize) {
      throw new ShortvError(
        'E_MODEL_INPUT',
        `token id ${id} is outside the vocabulary [0, ${config.text.vocabSize})`,
      );
    }
    out.set(table.subarray(id * d, (id + 1) * d), row * d);
  });
  return out;
}
