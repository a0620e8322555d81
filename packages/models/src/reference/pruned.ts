import { ShortvError, type Tensor } from '@shortv/tensor';
import type { LlavaConfig } from '../config/types.ts';
import { textLayerName } from '../weights/names.ts';
import { referenceAttention, referenceMlp, ropeInverseFrequencies } from './decoder.ts';
import { linear, matrix, rmsNorm, type WeightMap, weight } from './math.ts';

export interface ReferencePrunedInput {
  /** [1, S, d] rows fed to layer 0. */
  readonly inputsEmbeds: Tensor<'float32'>;
  /** [S] position of each row. */
  readonly positionIds: readonly number[];
  /** [S] true for visual rows. */
  readonly visual: readonly boolean[];
  /** Layers whose visual rows are frozen (ShortV). */
  readonly frozenLayers?: readonly number[];
  /**
   * FastV: after `afterLayer`, keep `keepCount` visual rows, ranked by the attention the last row gives them in
   * that layer (mean over heads; ties to the earlier row), or exactly `keptVisualRows` when given (to replay a
   * choice made on a shorter prompt).
   */
  readonly prune?: {
    readonly afterLayer: number;
    readonly keepCount: number;
    readonly keptVisualRows?: readonly number[];
  } | null;
  /** VTW: layers >= fromLayer run on text rows only. */
  readonly withdraw?: { readonly fromLayer: number } | null;
}

export interface ReferencePrunedOutput {
  /** Rows kept by the first drop (FastV, else VTW), original indices ascending: the graph's `kept_rows`. */
  readonly keptRows: readonly number[];
  /** Rows the last layer ran on. */
  readonly finalRows: readonly number[];
  /** [V] logits at the last row. */
  readonly lastLogits: Float64Array;
}

/**
 * The plain decoder forward of `referenceDecoder` for one unpadded sequence, with FastV pruning and/or VTW
 * withdrawal: dropped rows leave the sequence, later layers attend over the kept rows at their original
 * positions.
 */
export function referencePrunedDecoder(
  config: LlavaConfig,
  weights: WeightMap,
  input: ReferencePrunedInput,
): ReferencePrunedOutput {
  const text = config.text;
  const [batch, seq, d] = input.inputsEmbeds.dims as [number, number, number];
  if (batch !== 1 || seq !== input.positionIds.length || seq !== input.visual.length) {
    throw new ShortvError(
      'E_MODEL_INPUT',
      `the pruned reference takes one sequence with a position and a kind per row; got batch ${batch}, ${seq} rows`,
    );
  }
  const frozen = new Set(input.frozenLayers ?? []);
  const inv = ropeInverseFrequencies(text, Math.max(...input.positionIds) + 1);
  const state = Float64Array.from(input.inputsEmbeds.data);
  let active = Array.from({ length: seq }, (_, i) => i);
  let keptRows: number[] | null = null;
  const isText = (row: number) => !input.visual[row];
  for (let layer = 0; layer < text.numLayers; layer++) {
    if (input.withdraw && layer === input.withdraw.fromLayer) {
      active = active.filter(isText);
      keptRows ??= active;
    }
    const n = active.length;
    const h = matrix(n, d);
    active.forEach((row, i) => {
      h.data.set(state.subarray(row * d, (row + 1) * d), i * d);
    });
    const name = (s: string) => textLayerName(layer, s);
    const probe = new Float64Array(n);
    const attn = referenceAttention(
      text,
      weights,
      layer,
      rmsNorm(h, weight(weights, name('input_layernorm.weight')), text.rmsNormEps),
      active.map((row) => input.positionIds[row]!),
      new Array<number>(n).fill(1),
      inv,
      probe,
    );
    const factor = (i: number) => (frozen.has(layer) && input.visual[active[i]!] ? 0 : 1);
    const h1 = matrix(n, d);
    for (let i = 0; i < h1.data.length; i++)
      h1.data[i] = h.data[i]! + factor(Math.floor(i / d)) * attn.data[i]!;
    const ff = referenceMlp(
      text,
      weights,
      layer,
      rmsNorm(h1, weight(weights, name('post_attention_layernorm.weight')), text.rmsNormEps),
    );
    active.forEach((row, i) => {
      for (let c = 0; c < d; c++) state[row * d + c] = h1.data[i * d + c]! + factor(i) * ff.data[i * d + c]!;
    });
    const prune = input.prune;
    if (prune && layer === prune.afterLayer) {
      const visualSlots = active.flatMap((row, i) => (input.visual[row] ? [i] : []));
      const chosen =
        prune.keptVisualRows ??
        visualSlots
          .sort((a, b) => probe[b]! - probe[a]! || a - b)
          .slice(0, prune.keepCount)
          .map((i) => active[i]!);
      const keep = new Set(chosen);
      active = active.filter((row) => isText(row) || keep.has(row));
      keptRows = active;
    }
  }
  const last = matrix(1, d, state.slice((seq - 1) * d, seq * d));
  const normed = rmsNorm(last, weight(weights, 'text.norm.weight'), text.rmsNormEps);
  const head = config.tieWordEmbeddings ? 'text.embed_tokens.weight' : 'text.lm_head.weight';
  return {
    keptRows: keptRows ?? active,
    finalRows: active,
    lastLogits: linear(normed, weight(weights, head)).data,
  };
}
