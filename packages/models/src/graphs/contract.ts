import { ShortvError } from '@shortv/tensor';

/** Graph input/output names shared by the emitters and the runtime built on them. */
export const GRAPH_IO = {
  pixelValues: 'pixel_values',
  imageFeatures: 'image_features',
  inputIds: 'input_ids',
  inputsEmbeds: 'inputs_embeds',
  positionIds: 'position_ids',
  attentionMask: 'attention_mask',
  logitsIndex: 'logits_index',
  logits: 'logits',
  updateMask: 'update_mask',
  textIndex: 'text_index',
  hiddenStates: 'hidden_states',
  hiddenStatesOut: 'hidden_states_out',
} as const;

export const pastKeyName = (layer: number) => `past_key_values.${layer}.key`;
export const pastValueName = (layer: number) => `past_key_values.${layer}.value`;
export const presentKeyName = (layer: number) => `present.${layer}.key`;
export const presentValueName = (layer: number) => `present.${layer}.value`;

/**
 * The `text_index` input for a batch: each sequence's text rows (ascending, real rows only) padded with -1
 * to the longest list. Rows not listed (visual rows, padding) pass through frozen layers unchanged.
 */
export function padTextIndex(textRows: readonly (readonly number[])[], seqLength: number): number[][] {
  const slots = Math.max(1, ...textRows.map((r) => r.length));
  return textRows.map((rows, b) => {
    rows.forEach((r, i) => {
      if (!Number.isInteger(r) || r < 0 || r >= seqLength || (i > 0 && r <= rows[i - 1]!)) {
        throw new ShortvError(
          'E_MODEL_INPUT',
          `text rows of sequence ${b} must be ascending row indices in [0, ${seqLength}); got ${rows.join(', ')}`,
        );
      }
    });
    return [...rows, ...new Array<number>(slots - rows.length).fill(-1)];
  });
}
