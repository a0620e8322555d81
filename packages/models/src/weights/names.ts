/**
 * Canonical tensor names, one per weight whatever layout a checkpoint used:
 *   text.embed_tokens.weight, text.layers.{i}.*, text.norm.weight, text.lm_head.weight
 *   vision.embeddings.*, vision.pre_layrnorm.*, vision.encoder.layers.{i}.*, vision.post_layernorm.*
 *   projector.linear_1.*, projector.linear_2.*
 */

// HF has written LLaVA checkpoints in two layouts: before transformers 4.52 the LM sat under
// `language_model.model.*` with `language_model.lm_head`; since then under `model.language_model.*` with a
// top-level `lm_head`. The vision tower and projector moved under `model.` the same way.
const PREFIXES: readonly (readonly [string, string])[] = [
  ['language_model.model.', 'text.'],
  ['language_model.lm_head.', 'text.lm_head.'],
  ['model.language_model.', 'text.'],
  ['lm_head.', 'text.lm_head.'],
  ['vision_tower.vision_model.', 'vision.'],
  ['model.vision_tower.vision_model.', 'vision.'],
  ['multi_modal_projector.', 'projector.'],
  ['model.multi_modal_projector.', 'projector.'],
];

/** The canonical name of a checkpoint key, or null for keys this model does not use (e.g. a SigLIP head). */
export function canonicalName(key: string): string | null {
  for (const [from, to] of PREFIXES) {
    if (key.startsWith(from)) return to + key.slice(from.length);
  }
  return null;
}

export function textLayerName(layer: number, suffix: string): string {
  return `text.layers.${layer}.${suffix}`;
}

export function visionLayerName(layer: number, suffix: string): string {
  return `vision.encoder.layers.${layer}.${suffix}`;
}

/** The checkpoint key for a canonical name in either HF layout (used to write test checkpoints). */
export function hfKey(canonical: string, layout: 'legacy' | 'current'): string {
  const table: readonly (readonly [string, string, string])[] = [
    ['text.lm_head.', 'language_model.lm_head.', 'lm_head.'],
    ['text.', 'language_model.model.', 'model.language_model.'],
    ['vision.', 'vision_tower.vision_model.', 'model.vision_tower.vision_model.'],
    ['projector.', 'multi_modal_projector.', 'model.multi_modal_projector.'],
  ];
  for (const [prefix, legacy, current] of table) {
    if (canonical.startsWith(prefix))
      return (layout === 'legacy' ? legacy : current) + canonical.slice(prefix.length);
  }
  return canonical;
}
