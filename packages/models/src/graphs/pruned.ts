import { GraphBuilder, type ModelProto } from '@shortv/onnx';
import { ShortvError } from '@shortv/tensor';
import type { LlavaConfig } from '../config/types.ts';
import type { WeightMap } from '../reference/math.ts';
import { type EmitContext, type EmitOptions, emitContext, type V } from './common.ts';
import {
  type CallValues,
  callValues,
  checkFrozen,
  declareCallInputs,
  declarePast,
  declarePresent,
} from './decoder.ts';
import { decoderLayer, type LayerMode, lmHead } from './layer.ts';

/**
 * A decoder that drops visual rows part-way: FastV pruning (after layer `prune.afterLayer`, keep the visual
 * rows the last row attends to most) and/or VTW withdrawal (from layer `withdraw.fromLayer` on, text rows
 * only), optionally with ShortV-frozen layers. Extra inputs: `text_index` [B, T] and `visual_index` [B, NV]
 * (the original rows of each kind, ascending) and, with pruning, `visual_keep` [1] int64 (how many visual rows
 * to keep; 0 on decode steps, whose `visual_index` is empty). Extra output: `kept_rows` [B, K], the original
 * rows the last layers ran on. Layers after a drop keep a shorter KV cache (only the rows they saw), so their
 * `past_key_values` are shorter than those of earlier layers; `attention_mask` describes the earlier layers'
 * keys. Sequences must have no padding (batch 1, or equal layouts).
 */
export interface PrunedDecoderForm {
  readonly kind: 'pruned';
  readonly frozenLayers: readonly number[];
  /** FastV: `keep` is informational here; the row count comes in `visual_keep`. */
  readonly prune: { readonly afterLayer: number; readonly keep: number } | null;
  readonly withdraw: { readonly fromLayer: number } | null;
}

/** Where the current rows of a call stand after zero or more drops. */
interface RowState {
  readonly hidden: V;
  /** [B, S'] original position ids. */
  readonly positions: V;
  /** [B, S'] original row index of each current row. */
  readonly rows: V;
  /** [B, T] current row of each text row (-1 slots stay -1). */
  readonly text: V;
  /** [B, K] current row of each logits row. */
  readonly logits: V;
}

function checkForm(config: LlavaConfig, form: PrunedDecoderForm): void {
  const layers = config.text.numLayers;
  checkFrozen(config, form.frozenLayers);
  const bad = (message: string) => new ShortvError('E_MODEL_FORM', message);
  if (!form.prune && !form.withdraw) {
    throw bad('a pruned decoder needs prune or withdraw; use the dense or shortv form otherwise');
  }
  if (form.prune) {
    const { afterLayer, keep } = form.prune;
    if (!Number.isInteger(afterLayer) || afterLayer < 0 || afterLayer >= layers) {
      throw bad(`prune.afterLayer must be an integer in [0, ${layers}); got ${afterLayer}`);
    }
    if (!(keep > 0 && keep <= 1)) throw bad(`prune.keep must be a share in (0, 1]; got ${keep}`);
  }
  if (form.withdraw) {
    const { fromLayer } = form.withdraw;
    if (!Number.isInteger(fromLayer) || fromLayer < 0 || fromLayer >= layers) {
      throw bad(`withdraw.fromLayer must be an integer in [0, ${layers}); got ${fromLayer}`);
    }
    if (form.prune && form.prune.afterLayer + 1 >= fromLayer) {
      throw bad(
        `prune.afterLayer ${form.prune.afterLayer} must come before withdraw.fromLayer - 1 (${fromLayer - 1}): withdrawal would drop every pruned row anyway; remove prune or withdraw`,
      );
    }
  }
}

/** How many entries of the sorted rows `sel` [B, K] lie below each of `indices` [B, N]: the new row index. */
function rankIn(ctx: EmitContext, sel: V, indices: V): V {
  const { g } = ctx;
  const below = g.op.Cast(
    g.op.Less(g.op.Unsqueeze(sel, g.int64s([1])), g.op.Unsqueeze(indices, g.int64s([-1]))),
    { to: 'int64' },
  );
  const rank = g.node('ReduceSum', [below, g.int64s([-1])], 1, { keepdims: 0 })[0]!;
  return g.op.Where(g.op.Less(indices, g.scalar('int64', 0)), indices, rank);
}

/** Keeps the current rows `sel` [B, K] (ascending, every text and logits row among them). */
function selectRows(ctx: EmitContext, state: RowState, sel: V): RowState {
  const { g } = ctx;
  return {
    hidden: g.op.GatherND(state.hidden, g.op.Unsqueeze(sel, g.int64s([-1])), { batch_dims: 1 }),
    positions: g.op.GatherElements(state.positions, sel, { axis: 1 }),
    rows: g.op.GatherElements(state.rows, sel, { axis: 1 }),
    text: rankIn(ctx, sel, state.text),
    logits: rankIn(ctx, sel, state.logits),
  };
}

/** Rows ascending: TopK over the row indices themselves, smallest first. */
function sortRows(ctx: EmitContext, rows: V): V {
  const { g } = ctx;
  return g.node('TopK', [rows, g.op.Shape(rows, { start: 1, end: 2 })], 2, {
    axis: -1,
    largest: 0,
    sorted: 1,
  })[0]!;
}

/**
 * FastV's choice: the visual rows with the largest attention from the last query row of the layer (mean over
 * heads), `keepCount` of them; ties go to the earlier row.
 */
function fastvRows(ctx: EmitContext, probs: V, pastLength: V, visualIndex: V, keepCount: V, text: V): V {
  const { g } = ctx;
  return g.scope('/model/fastv', () => {
    const lastQuery = g.op.Slice(probs, g.int64s([-1]), g.int64s([2 ** 62]), g.int64s([3]));
    const received = g.op.ReduceMean(lastQuery, g.int64s([1, 2, 3]), { keepdims: 0 });
    const visualScores = g.op.GatherElements(received, g.op.Add(visualIndex, pastLength), { axis: 1 });
    const top = g.node('TopK', [visualScores, keepCount], 2, { axis: -1, largest: 1, sorted: 1 })[1]!;
    const keptVisual = g.op.GatherElements(visualIndex, top, { axis: 1 });
    return sortRows(ctx, g.op.Concat([text, keptVisual], { axis: 1 }));
  });
}

/** Call values for layers that run on a shortened sequence, with their own (shorter) KV cache. */
function groupValues(
  ctx: EmitContext,
  state: RowState,
  pastKey: V,
  layers: readonly number[],
  frozen: ReadonlySet<number>,
): CallValues {
  const { g } = ctx;
  const mask = g.scope('/model/kept_mask', () => {
    const batch = g.op.Shape(state.positions, { start: 0, end: 1 });
    const total = g.op.Add(
      g.op.Shape(pastKey, { start: 2, end: 3 }),
      g.op.Shape(state.positions, { start: 1, end: 2 }),
    );
    return g.op.Expand(g.scalar('int64', 1), g.op.Concat([batch, total], { axis: 0 }));
  });
  const needsText = layers.some((l) => frozen.has(l));
  return callValues(ctx, state.hidden, state.positions, mask, pastKey, layers, needsText ? state.text : null);
}

export function emitPrunedDecoderGraph(
  config: LlavaConfig,
  weights: WeightMap,
  form: PrunedDecoderForm,
  options: EmitOptions & { readonly hiddenStates?: boolean } = {},
): ModelProto {
  checkForm(config, form);
  const frozen = new Set(form.frozenLayers);
  const g = new GraphBuilder('llava_decoder_pruned');
  const ctx = emitContext(g, config, weights, options);
  const t = config.text;
  const { hidden, positionIds, attentionMask } = declareCallInputs(ctx, 'inputs_embeds');
  const pasts = Array.from({ length: t.numLayers }, (_, l) => declarePast(ctx, l));
  const logitsIndex = g.input('logits_index', 'int64', ['batch', 'logits_rows']);
  const textIndex = g.input('text_index', 'int64', ['batch', 'text_rows']);
  const visualIndex = g.input('visual_index', 'int64', ['batch', 'visual_rows']);
  const keepCount = form.prune ? g.input('visual_keep', 'int64', [1]) : null;
  const allRows = g.op.Add(
    g.op.Mul(positionIds, g.scalar('int64', 0)),
    g.op.Unsqueeze(
      g.op.Range(
        g.scalar('int64', 0),
        g.op.Squeeze(g.op.Shape(positionIds, { start: 1, end: 2 }), g.int64s([0])),
        g.scalar('int64', 1),
      ),
      g.int64s([0]),
    ),
  );
  let state: RowState = {
    hidden,
    positions: positionIds,
    rows: allRows,
    text: textIndex,
    logits: logitsIndex,
  };
  const layers = Array.from({ length: t.numLayers }, (_, l) => l);
  // Group boundaries: layer 0, the first layer after pruning, the first withdrawn layer.
  const starts = new Set<number>([0]);
  if (form.prune && form.prune.afterLayer + 1 < t.numLayers) starts.add(form.prune.afterLayer + 1);
  if (form.withdraw) starts.add(form.withdraw.fromLayer);
  const groupOf = (start: number) => {
    const ends = [...starts].filter((s) => s > start);
    const end = ends.length > 0 ? Math.min(...ends) : t.numLayers;
    return layers.slice(start, end);
  };
  let call: CallValues | null = null;
  let groupPast = pasts[0]!.key;
  let keptRows: V | null = null;
  for (const layer of layers) {
    if (form.withdraw && layer === form.withdraw.fromLayer) {
      state = g.scope('/model/withdraw', () => selectRows(ctx, state, state.text));
      keptRows ??= state.rows;
    }
    if (starts.has(layer)) {
      groupPast = pasts[layer]!.key;
      call =
        state.rows === allRows
          ? callValues(
              ctx,
              hidden,
              positionIds,
              attentionMask,
              groupPast,
              groupOf(0),
              groupOf(0).some((l) => frozen.has(l)) ? textIndex : null,
            )
          : groupValues(ctx, state, groupPast, groupOf(layer), frozen);
    }
    const mode: LayerMode = frozen.has(layer) ? { kind: 'frozen', text: call!.text! } : { kind: 'dense' };
    const result = decoderLayer(ctx, layer, state.hidden, call!.shared, pasts[layer]!, mode);
    declarePresent(ctx, layer, result.presentKey, result.presentValue);
    state = { ...state, hidden: result.hidden };
    if (form.prune && keepCount && layer === form.prune.afterLayer) {
      const pastLength = g.op.Shape(groupPast, { start: 2, end: 3 });
      const sel = fastvRows(ctx, result.attentionProbs, pastLength, visualIndex, keepCount, state.text);
      state = g.scope('/model/fastv', () => selectRows(ctx, state, sel));
      keptRows = state.rows;
    }
  }
  g.output('kept_rows', 'int64', ['batch', 'kept_rows'], { from: keptRows ?? state.rows });
  g.output('logits', 'float32', ['batch', 'logits_rows', t.vocabSize], {
    from: lmHead(ctx, state.hidden, state.logits),
  });
  return g.toModel({
    docString: 'LLaVA decoder, pruned form (FastV / VTW)',
    metadata: {
      form: 'pruned',
      frozen_layers: [...frozen].sort((a, b) => a - b).join(','),
      prune: form.prune ? `${form.prune.afterLayer}:${form.prune.keep}` : '',
      withdraw: form.withdraw ? String(form.withdraw.fromLayer) : '',
    },
  });
}
