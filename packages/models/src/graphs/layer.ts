import { textLayerName } from '../weights/names.ts';
import { activation, type EmitContext, linear, rmsNorm, scalar, type V } from './common.ts';
import { applyRope, type Rope } from './positions.ts';
import { extendWithScratch, gatherText, scatterText, type TextRows } from './text-rows.ts';

/** Per-call values every layer shares: RoPE at all rows and the attention bias per sliding window. */
export interface LayerInputs {
  readonly rope: Rope;
  readonly bias: ReadonlyMap<number | null, V>;
}

/**
 * How a layer treats its rows:
 * - dense: every row updated;
 * - masked: h1 = h + m*attn, h2 = h1 + m*mlp with m [B, S, 1] (the LC ablation);
 * - frozen: only text rows updated (ShortV), K/V still from every row.
 */
export type LayerMode =
  | { readonly kind: 'dense' }
  | { readonly kind: 'masked'; readonly mask: V }
  | { readonly kind: 'frozen'; readonly text: TextRows };

export interface LayerResult {
  readonly hidden: V;
  readonly presentKey: V;
  readonly presentValue: V;
  /** Attention weights [B, kvHeads, group, Q, P+S] of the layer's query rows (text rows only when frozen). */
  readonly attentionProbs: V;
}

function splitHeads(ctx: EmitContext, x: V, heads: number): V {
  const { g } = ctx;
  const hd = ctx.config.text.headDim;
  return g.op.Transpose(g.op.Reshape(x, g.int64s([0, 0, heads, hd])), { perm: [0, 2, 1, 3] });
}

/**
 * Self-attention of queries from `xq` [B, Q, d] over keys/values from `xkv` [B, S, d] appended to the cache.
 * Grouped-query heads are handled by viewing the H query heads as [kvh, group] against each KV head, so KV
 * heads are never copied.
 */
function attention(
  ctx: EmitContext,
  layer: number,
  xq: V,
  ropeQ: Rope,
  xkv: V,
  ropeKv: Rope,
  bias: V,
  past: { key: V; value: V },
): { out: V; presentKey: V; presentValue: V; probs: V } {
  const { g } = ctx;
  const t = ctx.config.text;
  const name = (p: string) => textLayerName(layer, `self_attn.${p}`);
  const group = t.numHeads / t.numKvHeads;
  return g.scope('self_attn', () => {
    const q = applyRope(
      ctx,
      splitHeads(ctx, linear(ctx, xq, name('q_proj'), 'q_proj', t.qkvBias), t.numHeads),
      ropeQ,
    );
    const k = applyRope(
      ctx,
      splitHeads(ctx, linear(ctx, xkv, name('k_proj'), 'k_proj', t.qkvBias), t.numKvHeads),
      ropeKv,
    );
    const v = splitHeads(ctx, linear(ctx, xkv, name('v_proj'), 'v_proj', t.qkvBias), t.numKvHeads);
    const presentKey = g.op.Concat([past.key, k], { axis: 2 });
    const presentValue = g.op.Concat([past.value, v], { axis: 2 });
    const qGroups = g.op.Reshape(q, g.int64s([0, t.numKvHeads, group, -1, t.headDim]));
    const keys = g.op.Transpose(g.op.Unsqueeze(presentKey, g.int64s([2])), { perm: [0, 1, 2, 4, 3] });
    const scores = g.op.Add(
      g.op.Mul(g.op.MatMul(qGroups, keys), scalar(ctx, 1 / Math.sqrt(t.headDim))),
      bias,
    );
    const probs = g.op.Softmax(scores, { axis: -1 });
    const context = g.op.MatMul(probs, g.op.Unsqueeze(presentValue, g.int64s([2])));
    const heads = g.op.Reshape(context, g.int64s([0, t.numHeads, -1, t.headDim]));
    const merged = g.op.Reshape(
      g.op.Transpose(heads, { perm: [0, 2, 1, 3] }),
      g.int64s([0, 0, t.numHeads * t.headDim]),
    );
    return {
      out: linear(ctx, merged, name('o_proj'), 'o_proj', t.oBias),
      presentKey,
      presentValue,
      probs,
    };
  });
}

function mlp(ctx: EmitContext, layer: number, x: V): V {
  const { g } = ctx;
  const t = ctx.config.text;
  const name = (p: string) => textLayerName(layer, `mlp.${p}`);
  return g.scope('mlp', () => {
    const gate = activation(ctx, linear(ctx, x, name('gate_proj'), 'gate_proj', t.mlpBias), t.hiddenAct);
    const up = linear(ctx, x, name('up_proj'), 'up_proj', t.mlpBias);
    return linear(ctx, g.op.Mul(gate, up), name('down_proj'), 'down_proj', t.mlpBias);
  });
}

/**
 * One decoder layer over h [B, S, d] in the given mode. The only emitter of layer math: the full decoder,
 * the per-layer graphs and every form call it.
 */
export function decoderLayer(
  ctx: EmitContext,
  layer: number,
  h: V,
  shared: LayerInputs,
  past: { key: V; value: V },
  mode: LayerMode,
): LayerResult {
  const { g } = ctx;
  const window = ctx.config.text.slidingWindows[layer] ?? null;
  const inputNorm = textLayerName(layer, 'input_layernorm.weight');
  const postNorm = textLayerName(layer, 'post_attention_layernorm.weight');
  return g.scope(`/model/layers.${layer}`, () => {
    const normed = rmsNorm(ctx, h, inputNorm, 'input_layernorm');
    if (mode.kind === 'frozen') {
      const rows = mode.text;
      const extended = extendWithScratch(ctx, h, rows);
      const textHidden = gatherText(ctx, extended, rows);
      const textNormed = rmsNorm(ctx, textHidden, inputNorm, 'input_layernorm_text');
      const attn = attention(
        ctx,
        layer,
        textNormed,
        rows.rope,
        normed,
        shared.rope,
        rows.bias.get(window)!,
        past,
      );
      const h1 = g.op.Add(textHidden, attn.out);
      const h2 = g.op.Add(h1, mlp(ctx, layer, rmsNorm(ctx, h1, postNorm, 'post_attention_layernorm')));
      return {
        hidden: scatterText(ctx, extended, rows, h2),
        presentKey: attn.presentKey,
        presentValue: attn.presentValue,
        attentionProbs: attn.probs,
      };
    }
    const attn = attention(
      ctx,
      layer,
      normed,
      shared.rope,
      normed,
      shared.rope,
      shared.bias.get(window)!,
      past,
    );
    const scaled = (update: V) => (mode.kind === 'masked' ? g.op.Mul(mode.mask, update) : update);
    const h1 = g.op.Add(h, scaled(attn.out));
    const h2 = g.op.Add(h1, scaled(mlp(ctx, layer, rmsNorm(ctx, h1, postNorm, 'post_attention_layernorm'))));
    return {
      hidden: h2,
      presentKey: attn.presentKey,
      presentValue: attn.presentValue,
      attentionProbs: attn.probs,
    };
  });
}

/** Final norm and LM head at the rows `logitsIndex` [B, K] picks: [B, K, V]. */
export function lmHead(ctx: EmitContext, h: V, logitsIndex: V): V {
  const { g } = ctx;
  return g.scope('/model/lm_head', () => {
    const picked = g.op.GatherND(h, g.op.Unsqueeze(logitsIndex, g.int64s([-1])), { batch_dims: 1 });
    const normed = rmsNorm(ctx, picked, 'text.norm.weight', 'norm');
    const head = ctx.config.tieWordEmbeddings ? 'text.embed_tokens' : 'text.lm_head';
    return linear(ctx, normed, head, 'lm_head', false);
  });
}
