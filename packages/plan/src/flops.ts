import { ShortvError } from '@shortv/tensor';
import type { PlanPrune, PlanWithdraw } from './schema.ts';

/** Decoder sizes the FLOPs model needs (the LLM only; the vision tower is not counted). */
export interface DecoderDims {
  hiddenSize: number;
  /** FFN inner size; the MLP is SwiGLU (gate, up, down: three d x m matrices). */
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  /** Equal to numHeads for multi-head attention, fewer for grouped-query attention. */
  numKvHeads: number;
  /** Defaults to hiddenSize / numHeads. */
  headDim?: number;
}

/** Prefill token counts: `textTokens` counts every non-visual token (system prompt, question, ...). */
export interface PrefillTokens {
  visualTokens: number;
  textTokens: number;
}

/** The parts of a plan that change the prefill cost. A full `FreezePlan` fits. */
export interface PlanLayout {
  layers: readonly { index: number }[];
  prune?: PlanPrune | null;
  withdraw?: PlanWithdraw | null;
}

export type LayerMode = 'dense' | 'freeze' | 'text-only';

export interface LayerFlops {
  index: number;
  /** How the layer runs under the plan; "text-only" once visual tokens are withdrawn. */
  mode: LayerMode;
  /** Visual tokens present in this layer under the plan (fewer after pruning, 0 after withdrawal). */
  visualTokens: number;
  /** Cost of this layer in the dense model. */
  dense: number;
  /** Cost of this layer with its visual tokens frozen, all else dense: `dense - frozen` is what freezing it saves. */
  frozen: number;
  /** Cost of this layer under the plan. */
  planned: number;
}

export interface PrefillFlopsReport {
  dense: number;
  planned: number;
  /** planned / dense. */
  ratio: number;
  perLayer: LayerFlops[];
}

function requireCount(value: number | undefined, name: string, min: number): void {
  if (value === undefined || !Number.isInteger(value) || value < min) {
    throw new ShortvError(
      'E_FLOPS_INPUT',
      `${name} is ${value}; expected an integer >= ${min}. Take it from the model's config.json.`,
    );
  }
}

interface Widths {
  d: number;
  m: number;
  /** Width of all query heads together. */
  dq: number;
  /** Width of all key (or value) heads together. */
  dkv: number;
}

function widths(dims: DecoderDims): Widths {
  for (const key of ['hiddenSize', 'intermediateSize', 'numLayers', 'numHeads', 'numKvHeads'] as const) {
    requireCount(dims[key], key, 1);
  }
  const headDim = dims.headDim ?? dims.hiddenSize / dims.numHeads;
  requireCount(headDim, dims.headDim === undefined ? 'hiddenSize / numHeads' : 'headDim', 1);
  return {
    d: dims.hiddenSize,
    m: dims.intermediateSize,
    dq: dims.numHeads * headDim,
    dkv: dims.numKvHeads * headDim,
  };
}

/**
 * One decoder layer in which all `n` tokens compute keys and values and `rows` of them compute
 * queries, attention, output projection and MLP (a multiply-add counts as 2 FLOPs):
 *   K,V projections 2 * 2·n·d·dkv, Q,O projections 2 * 2·rows·d·dq,
 *   scores and weighted sum 2 * 2·rows·n·dq, SwiGLU MLP 3 * 2·rows·d·m.
 * Dense: rows = n, which for MHA (dq = dkv = d) is the paper's 8nd² + 4n²d + 6ndm.
 * ShortV-frozen: rows = t, the paper's 4nd² + 4td² + 4tnd + 6tdm.
 * Attention is counted over the full n x n score matrix (no causal halving), norms, RoPE, softmax
 * and the LM head are left out: these are the paper's conventions, and they reproduce its tables.
 */
function layerCost(w: Widths, n: number, rows: number): number {
  return 4 * n * w.d * w.dkv + 4 * rows * w.d * w.dq + 4 * rows * n * w.dq + 6 * rows * w.d * w.m;
}

function checkTokens(tokens: PrefillTokens): void {
  requireCount(tokens.visualTokens, 'visualTokens', 0);
  requireCount(tokens.textTokens, 'textTokens', 0);
  if (tokens.visualTokens + tokens.textTokens === 0) {
    throw new ShortvError(
      'E_FLOPS_INPUT',
      'The prompt has no tokens; expected at least one visual or text token.',
    );
  }
}

/** Prefill FLOPs of one dense decoder layer. */
export function denseLayerFlops(dims: DecoderDims, tokens: PrefillTokens): number {
  checkTokens(tokens);
  const n = tokens.visualTokens + tokens.textTokens;
  return layerCost(widths(dims), n, n);
}

/** Prefill FLOPs of one decoder layer with its visual tokens frozen (ShortV). */
export function frozenLayerFlops(dims: DecoderDims, tokens: PrefillTokens): number {
  checkTokens(tokens);
  return layerCost(widths(dims), tokens.visualTokens + tokens.textTokens, tokens.textTokens);
}

function checkLayer(index: number, numLayers: number, where: string): void {
  if (!Number.isInteger(index) || index < 0 || index >= numLayers) {
    throw new ShortvError(
      'E_FLOPS_INPUT',
      `${where} is ${index}, outside the model's ${numLayers} layers (0..${numLayers - 1}). Is the plan for this model?`,
    );
  }
}

/**
 * Visual tokens FastV keeps out of `visual` with share `keep`: ceil(keep·v), at most v. The runtime prunes
 * to exactly this count, so FLOPs estimates and runs agree. keep·v is a float product
 * (0.07 * 100 = 7.000000000000001); the tolerance stops it rounding up a whole token.
 */
export function keptVisualTokens(keep: number, visual: number): number {
  return Math.min(visual, Math.ceil(keep * visual - 1e-9));
}
const keptVisual = keptVisualTokens;

/**
 * LLM prefill FLOPs, dense and under a plan. The plan's frozen layers cost a ShortV layer; after
 * `prune.afterLayer` the sequence holds t + ceil(keep·v) tokens (FastV); from `withdraw.fromLayer`
 * on it holds text tokens only (VTW). Without a plan, planned equals dense.
 *
 * The paper's LLaVA-1.5 figures come out with visualTokens 576 and textTokens 64 (so n = 640, and t
 * counts every non-visual token, system prompt included) in units of 1e12: 7B 8.50 -> 4.69 TFLOPs
 * with its 19 frozen layers, 13B 16.58 -> 9.07 with its 24; FastV K=2 R=50% (afterLayer 1, keep 0.5)
 * 4.87 and VTW K=16 4.67 on 7B, matching its 8.5 / 4.7, 16.6 / 9.1, 4.9 and 4.7.
 */
export function prefillFlops(
  dims: DecoderDims,
  tokens: PrefillTokens,
  plan?: PlanLayout,
): PrefillFlopsReport {
  const w = widths(dims);
  checkTokens(tokens);
  const { visualTokens: v, textTokens: t } = tokens;
  const frozenSet = new Set<number>();
  for (const [position, layer] of (plan?.layers ?? []).entries()) {
    checkLayer(layer.index, dims.numLayers, `layers[${position}].index`);
    frozenSet.add(layer.index);
  }
  const prune = plan?.prune ?? null;
  const withdraw = plan?.withdraw ?? null;
  if (prune) {
    checkLayer(prune.afterLayer, dims.numLayers, 'prune.afterLayer');
    if (!(prune.keep > 0 && prune.keep <= 1)) {
      throw new ShortvError('E_FLOPS_INPUT', `prune.keep is ${prune.keep}; expected a share in (0, 1].`);
    }
  }
  if (withdraw) checkLayer(withdraw.fromLayer, dims.numLayers, 'withdraw.fromLayer');

  const denseLayer = layerCost(w, v + t, v + t);
  const frozenLayer = layerCost(w, v + t, t);
  const perLayer: LayerFlops[] = [];
  for (let index = 0; index < dims.numLayers; index++) {
    let visual = v;
    if (prune && index > prune.afterLayer) visual = keptVisual(prune.keep, v);
    const withdrawn = withdraw !== null && index >= withdraw.fromLayer;
    if (withdrawn) visual = 0;
    const frozen = frozenSet.has(index) && !withdrawn;
    const mode: LayerMode = withdrawn ? 'text-only' : frozen ? 'freeze' : 'dense';
    const planned = layerCost(w, visual + t, frozen ? t : visual + t);
    perLayer.push({ index, mode, visualTokens: visual, dense: denseLayer, frozen: frozenLayer, planned });
  }
  const dense = denseLayer * dims.numLayers;
  const planned = perLayer.reduce((sum, layer) => sum + layer.planned, 0);
  return { dense, planned, ratio: planned / dense, perLayer };
}
