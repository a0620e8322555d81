import { GraphBuilder, type ModelProto } from '@shortv/onnx';
import type { LlavaConfig } from '../../config/types.ts';
import { type EmitContext, type EmitOptions, emitContext, type V } from '../../graphs/common.ts';
import { callValues, checkFrozen } from '../../graphs/decoder.ts';
import { decoderLayer, type LayerMode, lmHead } from '../../graphs/layer.ts';
import type { WeightMap } from '../../reference/math.ts';

/**
 * Names and symbolic dims transformers.js uses for a merged decoder. It builds the first step's empty cache
 * from the session's input metadata, resolving `batch_size` to the batch and every other symbol to 0, so the
 * past inputs must carry exactly that batch symbol.
 */
export const TRANSFORMERS_JS_DIMS = {
  batch: 'batch_size',
  seq: 'sequence_length',
  past: 'past_sequence_length',
  total: 'total_sequence_length',
} as const;

export const tjsPastKey = (layer: number) => `past_key_values.${layer}.key`;
export const tjsPastValue = (layer: number) => `past_key_values.${layer}.value`;
export const tjsPresentKey = (layer: number) => `present.${layer}.key`;
export const tjsPresentValue = (layer: number) => `present.${layer}.value`;

/** Which merged decoder to emit: all layers dense, or ShortV with these layers' visual rows frozen. */
export interface TransformersJsDecoderForm {
  readonly frozenLayers: readonly number[];
}

/**
 * Width of `inputs_embeds` in an export: d for a dense one; d + 1 for a ShortV one, whose last channel marks
 * visual rows (1, written by the vision encoder) and text rows (0, written by embed_tokens). transformers.js
 * copies image feature rows into the embedding rows whole, so the marker travels with each row through its
 * merge, and the decoder needs no input beyond the ones transformers.js already feeds.
 */
export function tjsEmbedWidth(config: LlavaConfig, form: TransformersJsDecoderForm): number {
  return config.text.hiddenSize + (form.frozenLayers.length > 0 ? 1 : 0);
}

/**
 * The `text_index` [B, T] a ShortV layer needs, derived inside the graph: text rows are real rows (current
 * part of `attention_mask` is 1) whose marker channel is 0. Each sequence lists its text rows ascending, then
 * -1 for the unused slots, T = the most text rows of any sequence (at least 1). Sorting keys row (text) and
 * S + row (other) ascending and keeping the first T gives exactly that layout.
 */
function textIndexFromMarker(ctx: EmitContext, marker: V, attentionMask: V, seqLength: V): V {
  const { g } = ctx;
  return g.scope('/model/text_index', () => {
    const current = g.op.Slice(
      attentionMask,
      g.op.Neg(seqLength),
      g.int64s([Number.MAX_SAFE_INTEGER]),
      g.int64s([1]),
    );
    const isText = g.op.And(
      g.op.Less(marker, g.scalar('float32', 0.5)),
      g.op.Equal(current, g.scalar('int64', 1)),
    );
    const rows = g.op.Cast(
      g.op.Range(g.scalar('int64', 0), g.op.Squeeze(seqLength, g.int64s([0])), g.scalar('int64', 1)),
      { to: 'float32' },
    );
    const seqFloat = g.op.Cast(seqLength, { to: 'float32' });
    const keys = g.op.Where(isText, rows, g.op.Add(rows, seqFloat));
    const counts = g.node('ReduceSum', [g.op.Cast(isText, { to: 'int64' }), g.int64s([1])], 1, {
      keepdims: 0,
    })[0]!;
    const most = g.node('ReduceMax', [counts, g.int64s([0])], 1, { keepdims: 1 })[0]!;
    const slots = g.op.Max([most, g.int64s([1])]);
    const [sorted] = g.node('TopK', [keys, slots], 2, { axis: 1, largest: 0, sorted: 1 });
    const unused = g.op.Not(g.op.Less(sorted!, seqFloat));
    return g.op.Where(unused, g.scalar('int64', -1), g.op.Cast(sorted!, { to: 'int64' }));
  });
}

/**
 * `logits_index` [B, K] from transformers.js' `num_logits_to_keep` (scalar): the last K rows, or every row
 * when it is 0 (or more than the rows of the call).
 */
function logitsIndexFromKeep(ctx: EmitContext, keep: V, hidden: V, seqLength: V): V {
  const { g } = ctx;
  return g.scope('/model/logits_index', () => {
    const n = g.op.Reshape(keep, g.int64s([1]));
    const all = g.op.Or(g.op.LessOrEqual(n, g.scalar('int64', 0)), g.op.Greater(n, seqLength));
    const k = g.op.Where(all, seqLength, n);
    const rows = g.op.Range(
      g.op.Squeeze(g.op.Sub(seqLength, k), g.int64s([0])),
      g.op.Squeeze(seqLength, g.int64s([0])),
      g.scalar('int64', 1),
    );
    const shape = g.op.Concat([g.op.Shape(hidden, { start: 0, end: 1 }), k], { axis: 0 });
    return g.op.Expand(g.op.Unsqueeze(rows, g.int64s([0])), shape);
  });
}

/**
 * The decoder as transformers.js runs it (`decoder_model_merged.onnx`): one graph for the prompt and for every
 * decode step. Inputs `inputs_embeds`, `attention_mask`, `position_ids`, `past_key_values.{i}.key|value` (zero
 * length on the first step) and `num_logits_to_keep`; outputs `logits` and `present.{i}.key|value`.
 *
 * ShortV form: the frozen layers take their text rows from the marker channel (see `tjsEmbedWidth`). On the
 * prompt that is the text tokens, so visual rows pass those layers unchanged; on a decode step the one new row
 * is text, `text_index` is [[0]] and a frozen layer computes exactly what a dense layer does.
 */
export function emitTransformersJsDecoderGraph(
  config: LlavaConfig,
  weights: WeightMap,
  form: TransformersJsDecoderForm,
  options: EmitOptions = {},
): ModelProto {
  const frozen = checkFrozen(config, form.frozenLayers);
  const shortv = frozen.size > 0;
  const g = new GraphBuilder(shortv ? 'llava_decoder_merged_shortv' : 'llava_decoder_merged');
  const ctx = emitContext(g, config, weights, options);
  const t = config.text;
  const D = TRANSFORMERS_JS_DIMS;
  const embeds = g.input('inputs_embeds', 'float32', [D.batch, D.seq, tjsEmbedWidth(config, form)]);
  const attentionMask = g.input('attention_mask', 'int64', [D.batch, D.total]);
  const positionIds = g.input('position_ids', 'int64', [D.batch, D.seq]);
  const cacheDims = [D.batch, t.numKvHeads, D.past, t.headDim];
  const pasts = Array.from({ length: t.numLayers }, (_, l) => ({
    key: g.input(tjsPastKey(l), 'float32', cacheDims),
    value: g.input(tjsPastValue(l), 'float32', cacheDims),
  }));
  const keep = g.input('num_logits_to_keep', 'int64', []);
  const seqLength = g.op.Shape(embeds, { start: 1, end: 2 });
  let hidden = embeds;
  let textIndex: V | null = null;
  if (shortv) {
    const d = g.int64s([t.hiddenSize]);
    hidden = g.scope('/model/split_marker', () => g.op.Slice(embeds, g.int64s([0]), d, g.int64s([2])));
    const marker = g.scope('/model/split_marker', () =>
      g.op.Gather(embeds, g.scalar('int64', t.hiddenSize), { axis: 2 }),
    );
    textIndex = textIndexFromMarker(ctx, marker, attentionMask, seqLength);
  }
  const layers = Array.from({ length: t.numLayers }, (_, l) => l);
  const call = callValues(ctx, hidden, positionIds, attentionMask, pasts[0]!.key, layers, textIndex);
  const presentDims = [D.batch, t.numKvHeads, D.total, t.headDim];
  let h = hidden;
  for (const layer of layers) {
    const mode: LayerMode = frozen.has(layer) ? { kind: 'frozen', text: call.text! } : { kind: 'dense' };
    const result = decoderLayer(ctx, layer, h, call.shared, pasts[layer]!, mode);
    g.output(tjsPresentKey(layer), 'float32', presentDims, { from: result.presentKey });
    g.output(tjsPresentValue(layer), 'float32', presentDims, { from: result.presentValue });
    h = result.hidden;
  }
  const logitsIndex = logitsIndexFromKeep(ctx, keep, hidden, seqLength);
  g.output('logits', 'float32', [D.batch, 'logits_rows', t.vocabSize], { from: lmHead(ctx, h, logitsIndex) });
  const frozenList = [...frozen].sort((a, b) => a - b);
  return g.toModel({
    docString: `LLaVA merged decoder for transformers.js, ${shortv ? 'ShortV' : 'dense'} form`,
    metadata: { form: shortv ? 'shortv' : 'dense', frozen_layers: frozenList.join(',') },
  });
}
