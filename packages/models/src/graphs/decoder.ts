import { GraphBuilder, type ModelProto } from '@shortv/onnx';
import { ShortvError } from '@shortv/tensor';
import type { LlavaConfig } from '../config/types.ts';
import type { WeightMap } from '../reference/math.ts';
import { type EmitContext, type EmitOptions, emitContext, type V } from './common.ts';
import { pastKeyName, pastValueName, presentKeyName, presentValueName } from './contract.ts';
import { decoderLayer, type LayerInputs, type LayerMode, lmHead } from './layer.ts';
import { attentionBias, currentSlots, inverseFrequencies, keyFrame, ropeAt } from './positions.ts';
import { emitPrunedDecoderGraph, type PrunedDecoderForm } from './pruned.ts';
import { type TextRows, textRows } from './text-rows.ts';

/** Which layer math a decoder graph runs: all dense, LC-masked, or ShortV with some layers' visual rows frozen. */
export type DecoderForm =
  | { readonly kind: 'dense' }
  | { readonly kind: 'masked' }
  | { readonly kind: 'shortv'; readonly frozenLayers: readonly number[] }
  | PrunedDecoderForm;

/** What a single-layer graph does to its rows (see DecoderForm). */
export type LayerGraphForm = 'dense' | 'masked' | 'frozen';

export function checkFrozen(config: LlavaConfig, layers: readonly number[]): Set<number> {
  const set = new Set<number>();
  for (const layer of layers) {
    if (!Number.isInteger(layer) || layer < 0 || layer >= config.text.numLayers || set.has(layer)) {
      throw new ShortvError(
        'E_MODEL_LAYERS',
        `frozen layers must be distinct integers in [0, ${config.text.numLayers}); got ${layers.join(', ')}`,
      );
    }
    set.add(layer);
  }
  return set;
}

export interface CallValues {
  readonly shared: LayerInputs;
  readonly text: TextRows | null;
}

/** Position-dependent values computed once per graph from the call's inputs and shared by its layers. */
export function callValues(
  ctx: EmitContext,
  hidden: V,
  positionIds: V,
  attentionMask: V,
  pastKey: V,
  layers: readonly number[],
  textIndex: V | null,
): CallValues {
  const frame = keyFrame(ctx, positionIds, attentionMask, pastKey);
  const inv = ctx.g.scope('/model/rotary_emb', () => inverseFrequencies(ctx, positionIds));
  const rope = ctx.g.scope('/model', () => ropeAt(ctx, positionIds, inv));
  const windows = new Set(layers.map((l) => ctx.config.text.slidingWindows[l] ?? null));
  const slots = ctx.g.scope('/model/attention_frame', () => currentSlots(ctx, frame, hidden));
  const bias = new Map<number | null, V>();
  for (const window of windows) bias.set(window, attentionBias(ctx, frame, positionIds, slots, window));
  const text = textIndex === null ? null : textRows(ctx, textIndex, hidden, positionIds, frame, inv, windows);
  return { shared: { rope, bias }, text };
}

export function declareCallInputs(
  ctx: EmitContext,
  hiddenName: string,
): { hidden: V; positionIds: V; attentionMask: V } {
  const { g } = ctx;
  return {
    hidden: g.input(hiddenName, 'float32', ['batch', 'seq', ctx.config.text.hiddenSize]),
    positionIds: g.input('position_ids', 'int64', ['batch', 'seq']),
    attentionMask: g.input('attention_mask', 'int64', ['batch', 'total_seq']),
  };
}

export function declarePast(ctx: EmitContext, layer: number): { key: V; value: V } {
  const t = ctx.config.text;
  const dims = ['batch', t.numKvHeads, 'past_seq', t.headDim];
  return {
    key: ctx.g.input(pastKeyName(layer), 'float32', dims),
    value: ctx.g.input(pastValueName(layer), 'float32', dims),
  };
}

export function declarePresent(ctx: EmitContext, layer: number, key: V, value: V): void {
  const t = ctx.config.text;
  const dims = ['batch', t.numKvHeads, 'total_seq', t.headDim];
  ctx.g.output(presentKeyName(layer), 'float32', dims, { from: key });
  ctx.g.output(presentValueName(layer), 'float32', dims, { from: value });
}

/**
 * The whole decoder: inputs_embeds + positions + mask + KV cache -> logits at `logits_index` rows + new cache.
 * See the package README for the I/O contract of each form.
 */
export interface DecoderGraphOptions extends EmitOptions {
  /** Also output `hidden_states.{l}` [B, S, d]: l = 0 the input, l + 1 the output of layer l (for debugging and checks). */
  readonly hiddenStates?: boolean;
}

export function emitDecoderGraph(
  config: LlavaConfig,
  weights: WeightMap,
  form: DecoderForm,
  options: DecoderGraphOptions = {},
): ModelProto {
  if (form.kind === 'pruned') return emitPrunedDecoderGraph(config, weights, form, options);
  const frozen = form.kind === 'shortv' ? checkFrozen(config, form.frozenLayers) : new Set<number>();
  const g = new GraphBuilder(`llava_decoder_${form.kind}`);
  const ctx = emitContext(g, config, weights, options);
  const t = config.text;
  const { hidden, positionIds, attentionMask } = declareCallInputs(ctx, 'inputs_embeds');
  const pasts = Array.from({ length: t.numLayers }, (_, l) => declarePast(ctx, l));
  const logitsIndex = g.input('logits_index', 'int64', ['batch', 'logits_rows']);
  const updateMask =
    form.kind === 'masked' ? g.input('update_mask', 'float32', [t.numLayers, 'batch', 'seq']) : null;
  const textIndex = form.kind === 'shortv' ? g.input('text_index', 'int64', ['batch', 'text_rows']) : null;
  const layers = Array.from({ length: t.numLayers }, (_, l) => l);
  const call = callValues(ctx, hidden, positionIds, attentionMask, pasts[0]!.key, layers, textIndex);
  let h = hidden;
  const hiddenDims = ['batch', 'seq', t.hiddenSize];
  if (options.hiddenStates) g.output('hidden_states.0', 'float32', hiddenDims, { from: hidden });
  for (const layer of layers) {
    let mode: LayerMode = { kind: 'dense' };
    if (updateMask !== null) {
      const m = g.scope(`/model/layers.${layer}/update_mask`, () =>
        g.op.Unsqueeze(g.op.Gather(updateMask, g.scalar('int64', layer), { axis: 0 }), g.int64s([-1])),
      );
      mode = { kind: 'masked', mask: m };
    } else if (frozen.has(layer)) {
      mode = { kind: 'frozen', text: call.text! };
    }
    const result = decoderLayer(ctx, layer, h, call.shared, pasts[layer]!, mode);
    declarePresent(ctx, layer, result.presentKey, result.presentValue);
    h = result.hidden;
    if (options.hiddenStates) g.output(`hidden_states.${layer + 1}`, 'float32', hiddenDims, { from: h });
  }
  g.output('logits', 'float32', ['batch', 'logits_rows', t.vocabSize], { from: lmHead(ctx, h, logitsIndex) });
  const frozenList = [...frozen].sort((a, b) => a - b);
  return g.toModel({
    docString: `LLaVA decoder, ${form.kind} form`,
    metadata: { form: form.kind, frozen_layers: frozenList.join(',') },
  });
}

/**
 * One decoder layer as its own graph (`hidden_states` in, `hidden_states_out` + that layer's cache out), so a
 * caller can start a forward pass from any layer's input. Built by the same layer emitter as the full decoder.
 * `masked` adds `update_mask` [B, S]; `frozen` adds `text_index` [B, T].
 */
export function emitDecoderLayerGraph(
  config: LlavaConfig,
  weights: WeightMap,
  layer: number,
  form: LayerGraphForm,
  options: EmitOptions = {},
): ModelProto {
  checkFrozen(config, [layer]);
  const g = new GraphBuilder(`llava_decoder_layer_${layer}_${form}`);
  const ctx = emitContext(g, config, weights, options);
  const { hidden, positionIds, attentionMask } = declareCallInputs(ctx, 'hidden_states');
  const past = declarePast(ctx, layer);
  const updateMask = form === 'masked' ? g.input('update_mask', 'float32', ['batch', 'seq']) : null;
  const textIndex = form === 'frozen' ? g.input('text_index', 'int64', ['batch', 'text_rows']) : null;
  const call = callValues(ctx, hidden, positionIds, attentionMask, past.key, [layer], textIndex);
  let mode: LayerMode = { kind: 'dense' };
  if (updateMask !== null) mode = { kind: 'masked', mask: g.op.Unsqueeze(updateMask, g.int64s([-1])) };
  if (call.text !== null) mode = { kind: 'frozen', text: call.text };
  const result = decoderLayer(ctx, layer, hidden, call.shared, past, mode);
  g.output('hidden_states_out', 'float32', ['batch', 'seq', config.text.hiddenSize], { from: result.hidden });
  declarePresent(ctx, layer, result.presentKey, result.presentValue);
  return g.toModel({
    docString: `LLaVA decoder layer ${layer}, ${form}`,
    metadata: { layer: String(layer), form },
  });
}

/** Final norm + LM head: `hidden_states` [B, S, d] and `logits_index` [B, K] -> `logits` [B, K, V]. */
export function emitHeadGraph(
  config: LlavaConfig,
  weights: WeightMap,
  options: EmitOptions = {},
): ModelProto {
  const g = new GraphBuilder('llava_lm_head');
  const ctx = emitContext(g, config, weights, options);
  const hidden = g.input('hidden_states', 'float32', ['batch', 'seq', config.text.hiddenSize]);
  const logitsIndex = g.input('logits_index', 'int64', ['batch', 'logits_rows']);
  g.output('logits', 'float32', ['batch', 'logits_rows', config.text.vocabSize], {
    from: lmHead(ctx, hidden, logitsIndex),
  });
  return g.toModel({ docString: 'LLaVA final norm + LM head' });
}
