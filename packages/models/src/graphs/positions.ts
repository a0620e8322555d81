import { Tensor } from '@shortv/tensor';
import { type EmitContext, scalar, type V } from './common.ts';

/** cos/sin of RoPE angles, [B, 1, Q, hd], broadcast over heads. */
export interface Rope {
  readonly cos: V;
  readonly sin: V;
}

/**
 * RoPE inverse frequencies [hd/2]. Computed in the graph rather than gathered from a fixed cos/sin table:
 * no max-position limit, no table initializer (32k x hd floats for Qwen2), and dynamic NTK scaling needs the
 * frequencies to follow the longest position of the call anyway (max(position_ids) + 1, as HF keys it).
 */
export function inverseFrequencies(ctx: EmitContext, positionIds: V): V {
  const { g } = ctx;
  const text = ctx.config.text;
  const hd = text.headDim;
  const half = hd / 2;
  const scaling = text.ropeScaling;
  const base = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    base[i] = 1 / text.ropeTheta ** ((2 * i) / hd) / (scaling?.type === 'linear' ? scaling.factor : 1);
  }
  const inv = g.constant(new Tensor('float32', base, [half]), 'rope_inv_freq');
  if (scaling?.type !== 'dynamic') return inv;
  // base' = theta * growth^(hd/(hd-2)), growth = max(1, factor*L/maxPos - (factor-1)), so that
  // base'^(-2i/hd) = theta^(-2i/hd) * growth^(-2i/(hd-2)).
  const longest = g.op.Cast(
    g.op.Add(g.node('ReduceMax', [positionIds], 1, { keepdims: 0 })[0]!, g.scalar('int64', 1)),
    {
      to: 'float32',
    },
  );
  const growth = g.op.Max([
    g.op.Sub(
      g.op.Mul(longest, scalar(ctx, scaling.factor / text.maxPositionEmbeddings)),
      scalar(ctx, scaling.factor - 1),
    ),
    scalar(ctx, 1),
  ]);
  const exponents = new Float32Array(half);
  for (let i = 0; i < half; i++) exponents[i] = (-2 * i) / (hd - 2);
  return g.op.Mul(
    inv,
    g.op.Pow(growth, g.constant(new Tensor('float32', exponents, [half]), 'rope_dynamic_exponents')),
  );
}

/** cos/sin for rows at `positions` [B, Q] int64. */
export function ropeAt(ctx: EmitContext, positions: V, inv: V): Rope {
  const { g } = ctx;
  return g.scope('rotary_emb', () => {
    const angles = g.op.Mul(g.op.Unsqueeze(g.op.Cast(positions, { to: 'float32' }), g.int64s([-1])), inv);
    const full = g.op.Unsqueeze(g.op.Concat([angles, angles], { axis: -1 }), g.int64s([1]));
    return { cos: g.node('Cos', [full])[0]!, sin: g.node('Sin', [full])[0]! };
  });
}

/** x [B, heads, Q, hd] rotated: x*cos + rotate_half(x)*sin with rotate_half([x1, x2]) = [-x2, x1]. */
export function applyRope(ctx: EmitContext, x: V, rope: Rope): V {
  const { g } = ctx;
  const [x1, x2] = g.op.Split(x, undefined, { axis: -1, num_outputs: 2 });
  const rotated = g.op.Concat([g.op.Neg(x2!), x1!], { axis: -1 });
  return g.op.Add(g.op.Mul(x, rope.cos), g.op.Mul(rotated, rope.sin));
}

/** Where the keys of a call sit: every past slot then every current row. */
export interface KeyFrame {
  /** [B, P+S] int64: past keys get -1 (they precede every current query), current keys their position ids. */
  readonly positions: V;
  /** [B, P+S] bool: attention_mask == 1. */
  readonly valid: V;
  /** [P+S] int64 slot index 0..P+S-1, for sliding windows. */
  readonly slots: V;
  /** [1] int64 past length P. */
  readonly pastLength: V;
}

export function keyFrame(ctx: EmitContext, positionIds: V, attentionMask: V, pastKey: V): KeyFrame {
  const { g } = ctx;
  return g.scope('/model/attention_frame', () => {
    const pastLength = g.op.Shape(pastKey, { start: 2, end: 3 });
    const pastMask = g.op.Slice(attentionMask, g.int64s([0]), pastLength, g.int64s([1]));
    const pastFill = g.op.Sub(g.op.Mul(pastMask, g.scalar('int64', 0)), g.scalar('int64', 1));
    const positions = g.op.Concat([pastFill, positionIds], { axis: 1 });
    const valid = g.op.Equal(attentionMask, g.scalar('int64', 1));
    const total = g.op.Squeeze(g.op.Shape(attentionMask, { start: 1, end: 2 }), g.int64s([0]));
    const slots = g.op.Range(g.scalar('int64', 0), total, g.scalar('int64', 1));
    return { positions, valid, slots, pastLength };
  });
}

/**
 * Additive attention bias [B, 1, 1, Q, P+S] (broadcast over KV heads and their query groups): 0 where query q
 * may see key k, -1e30 elsewhere. A key is visible when it is real (attention_mask 1), its position is at most
 * the query's (causal by original position, so row order does not matter), and, with a sliding window, it
 * sits fewer than `window` slots before the query (HF counts the window in cache slots). -1e30 rather than
 * -inf keeps a query with no visible key (a padding row) finite instead of NaN.
 */
export function attentionBias(
  ctx: EmitContext,
  frame: KeyFrame,
  queryPositions: V,
  querySlots: V,
  window: number | null,
): V {
  const { g } = ctx;
  const scope = window === null ? 'causal' : `window_${window}`;
  return g.scope(`/model/attention_bias/${scope}`, () => {
    const qPos = g.op.Unsqueeze(queryPositions, g.int64s([-1]));
    let allowed = g.op.And(
      g.op.LessOrEqual(g.op.Unsqueeze(frame.positions, g.int64s([1])), qPos),
      g.op.Unsqueeze(frame.valid, g.int64s([1])),
    );
    if (window !== null) {
      const gap = g.op.Sub(g.op.Unsqueeze(querySlots, g.int64s([-1])), frame.slots);
      allowed = g.op.And(allowed, g.op.Less(gap, g.scalar('int64', window)));
    }
    const bias = g.op.Where(allowed, scalar(ctx, 0), scalar(ctx, -1e30));
    return g.op.Unsqueeze(bias, g.int64s([1, 2]));
  });
}

/** Slot of each current row: P + 0..S-1, as [1, S] (same for every sequence). */
export function currentSlots(ctx: EmitContext, frame: KeyFrame, hidden: V): V {
  const { g } = ctx;
  const seq = g.op.Squeeze(g.op.Shape(hidden, { start: 1, end: 2 }), g.int64s([0]));
  const rows = g.op.Range(g.scalar('int64', 0), seq, g.scalar('int64', 1));
  return g.op.Unsqueeze(g.op.Add(rows, frame.pastLength), g.int64s([0]));
}
