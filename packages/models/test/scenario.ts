import { Tensor } from '@shortv/tensor';
import {
  findImageTokens,
  type LlavaConfig,
  mergeImageFeatures,
  padTextIndex,
  referenceEmbed,
  type WeightMap,
} from '../src/index.ts';

/**
 * A left-padded batch of two prompts: the first with one image span, the second with two, so the sequences
 * differ in length and in text-row count (5 vs 3).
 */
export interface Scenario {
  readonly seq: number;
  readonly embeds: Tensor<'float32'>;
  readonly positionIds: number[][];
  readonly attentionMask: number[][];
  /** Per row: 'text', 'visual' or 'pad'. */
  readonly kinds: ('text' | 'visual' | 'pad')[][];
  /** Text rows per sequence, then padded with -1 to the longest list (the `text_index` input). */
  readonly textRows: number[][];
  readonly textIndex: number[][];
}

export function promptIds(config: LlavaConfig): number[][] {
  const img = config.imageTokenIndex;
  return [
    [2, 5, img, 7, 8, 9],
    [2, img, 4, img, 6],
  ];
}

/** `features` [3, n_v, d]: image 0 for the first prompt, images 1 and 2 for the second. */
export function buildScenario(
  config: LlavaConfig,
  weights: WeightMap,
  features: Tensor<'float32'>,
): Scenario {
  const d = config.text.hiddenSize;
  const nv = config.imageSeqLength;
  const prompts = promptIds(config);
  let image = 0;
  const merged = prompts.map((ids) => {
    const positions = findImageTokens(ids, config.imageTokenIndex);
    const tokenRows = new Tensor(
      'float32',
      referenceEmbed(
        config,
        weights,
        ids.map((id) => (id === config.imageTokenIndex ? 0 : id)),
      ),
      [ids.length, d],
    );
    const imgs = new Tensor(
      'float32',
      features.data.slice(image * nv * d, (image + positions.length) * nv * d),
      [positions.length, nv, d],
    );
    image += positions.length;
    return mergeImageFeatures(tokenRows, imgs, positions);
  });
  const seq = Math.max(...merged.map((m) => m.visual.length));
  const embeds = new Float32Array(merged.length * seq * d);
  const positionIds: number[][] = [];
  const attentionMask: number[][] = [];
  const kinds: ('text' | 'visual' | 'pad')[][] = [];
  const textRows: number[][] = [];
  merged.forEach((m, b) => {
    const pad = seq - m.visual.length;
    embeds.set(m.embeds.data, (b * seq + pad) * d);
    // Padding rows hold a constant so a leak into real rows would show.
    embeds.fill(3, b * seq * d, (b * seq + pad) * d);
    positionIds.push(Array.from({ length: seq }, (_, i) => (i < pad ? 1 : i - pad)));
    attentionMask.push(Array.from({ length: seq }, (_, i) => (i < pad ? 0 : 1)));
    kinds.push(
      Array.from({ length: seq }, (_, i) => (i < pad ? 'pad' : m.visual[i - pad] ? 'visual' : 'text')),
    );
    textRows.push(m.textIndex.map((r) => r + pad));
  });
  const textIndex = padTextIndex(textRows, seq);
  return {
    seq,
    embeds: new Tensor('float32', embeds, [merged.length, seq, d]),
    positionIds,
    attentionMask,
    kinds,
    textRows,
    textIndex,
  };
}

/** The last `k` text rows of each sequence (where answers are read). */
export function lastTextRows(s: Scenario, k: number): number[][] {
  return s.textRows.map((rows) => rows.slice(-k));
}

/** Rows of [B, K, W] output `a` against rows `rows` of a [B, S, W] reference. */
export function pickRows(
  data: ArrayLike<number>,
  seq: number,
  width: number,
  rows: number[][],
): Float64Array {
  const out = new Float64Array(rows.length * rows[0]!.length * width);
  let o = 0;
  rows.forEach((list, b) => {
    for (const r of list) for (let i = 0; i < width; i++) out[o++] = data[(b * seq + r) * width + i]!;
  });
  return out;
}
