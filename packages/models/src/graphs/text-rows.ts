import type { EmitContext, V } from './common.ts';
import { attentionBias, type KeyFrame, type Rope, ropeAt } from './positions.ts';

/**
 * The text rows a ShortV layer updates, from `text_index` [B, T] int64.
 *
 * Padding scheme: sequence b lists its t_b text rows (ascending row indices, padding rows left out) in
 * slots 0..t_b-1 and fills slots t_b..T-1 with -1. Each -1 in slot k is redirected to scratch row S + k of a
 * copy of the hidden state extended by T zero rows, so every scatter target in a batch is distinct (ScatterND
 * leaves duplicate targets undefined, which is why repeating a valid index is unsound: two slots computing the
 * same row may not agree to the bit). The scratch rows are sliced off after the scatter; real rows other than
 * the listed text rows leave the layer exactly as they entered.
 */
export interface TextRows {
  /** [B, T, 1] row of each slot in the extended [B, S+T, d] state, for GatherND with batch_dims 1. */
  readonly gather: V;
  /** [B, T, 2] (batch, row) of each slot, for ScatterND. */
  readonly scatter: V;
  /** [B, T, d] zeros appended as scratch rows. */
  readonly scratch: V;
  /** [1] int64 S, to slice the scratch rows off again. */
  readonly seqLength: V;
  readonly rope: Rope;
  /** Attention bias for text queries, per sliding window (null = none). */
  readonly bias: ReadonlyMap<number | null, V>;
}

export function textRows(
  ctx: EmitContext,
  textIndex: V,
  hidden: V,
  positionIds: V,
  frame: KeyFrame,
  inv: V,
  windows: ReadonlySet<number | null>,
): TextRows {
  const { g } = ctx;
  const d = ctx.config.text.hiddenSize;
  return g.scope('/model/text_rows', () => {
    const seqLength = g.op.Shape(hidden, { start: 1, end: 2 });
    const slotCount = g.op.Squeeze(g.op.Shape(textIndex, { start: 1, end: 2 }), g.int64s([0]));
    const slots = g.op.Range(g.scalar('int64', 0), slotCount, g.scalar('int64', 1));
    const unused = g.op.Less(textIndex, g.scalar('int64', 0));
    const rows = g.op.Where(unused, g.op.Add(slots, seqLength), textIndex);
    const gather = g.op.Unsqueeze(rows, g.int64s([-1]));
    const batchCount = g.op.Squeeze(g.op.Shape(textIndex, { start: 0, end: 1 }), g.int64s([0]));
    const batchIds = g.op.Unsqueeze(
      g.op.Range(g.scalar('int64', 0), batchCount, g.scalar('int64', 1)),
      g.int64s([1]),
    );
    const batchGrid = g.op.Add(g.op.Mul(textIndex, g.scalar('int64', 0)), batchIds);
    const scatter = g.op.Concat([g.op.Unsqueeze(batchGrid, g.int64s([-1])), gather], { axis: -1 });
    const scratchShape = g.op.Concat([g.op.Shape(textIndex), g.int64s([d])], { axis: 0 });
    const scratch = g.op.Expand(g.scalar('float32', 0), scratchShape);
    // Scratch slots take position 0: their results are discarded, they only need to stay finite.
    const zeros = g.op.Mul(textIndex, g.scalar('int64', 0));
    const positions = g.op.GatherElements(g.op.Concat([positionIds, zeros], { axis: 1 }), rows, { axis: 1 });
    const rope = ropeAt(ctx, positions, inv);
    const querySlots = g.op.Add(rows, frame.pastLength);
    const bias = new Map<number | null, V>();
    for (const window of windows) bias.set(window, attentionBias(ctx, frame, positions, querySlots, window));
    return { gather, scatter, scratch, seqLength, rope, bias };
  });
}

/** Hidden rows of the text slots [B, T, d], from the state extended with scratch rows. */
export function gatherText(ctx: EmitContext, extended: V, rows: TextRows): V {
  return ctx.g.op.GatherND(extended, rows.gather, { batch_dims: 1 }, { name: 'gather_text_rows' });
}

export function extendWithScratch(ctx: EmitContext, hidden: V, rows: TextRows): V {
  return ctx.g.op.Concat([hidden, rows.scratch], { axis: 1 }, { name: 'append_scratch_rows' });
}

/** Writes the updated text rows back; every other row is copied from `extended` unchanged. */
export function scatterText(ctx: EmitContext, extended: V, rows: TextRows, updates: V): V {
  const { g } = ctx;
  const written = g.op.ScatterND(extended, rows.scatter, updates, undefined, { name: 'scatter_text_rows' });
  return g.op.Slice(written, g.int64s([0]), rows.seqLength, g.int64s([1]), undefined, {
    name: 'drop_scratch_rows',
  });
}
