/**
 * The bundled demo model: a tiny LLaVA (CLIP ViT + GELU projector + Llama decoder) trained from
 * scratch on the synthetic shapes dataset, stored as a Hugging Face folder next to its golden
 * outputs. This entry is platform-neutral: it names the files; `@shortv/model-shapes/node` finds
 * them on disk, and `modelShapesUrls` builds their URLs where the folder is served over HTTP.
 */

export const PACKAGE_NAME = '@shortv/model-shapes';

/** Identifier the demo and reports use for the bundled model. */
export const MODEL_SHAPES_ID = 'shortv/llava-shapes-tiny';

/** Every file of the model folder (`model/` inside the package). */
export const MODEL_SHAPES_FILES = [
  'config.json',
  'model.safetensors',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'preprocessor_config.json',
  'processor_config.json',
  'generation_config.json',
  'README.md',
] as const;

export type ModelShapesFile = (typeof MODEL_SHAPES_FILES)[number];

/** Golden outputs, relative to the package root: reference logits/norms and test metrics. */
export const MODEL_SHAPES_GOLDEN_FILES = ['golden/golden.json', 'golden/metrics.json'] as const;

/** One golden sample as golden/golden.json stores it. */
export interface ModelShapesGoldenSample {
  id: string;
  /** Image path relative to the package root (`samples/*.png`). */
  image: string;
  family: string;
  question: string;
  expected_answer: string;
  /** What the chat template renders for this question. */
  prompt_text: string;
  /** Tokenizer output for prompt_text: ONE image token, expanded by the runtime. */
  prompt_ids: number[];
  image_token_index: number;
  /** Sequence length once the image token becomes image_seq_length positions. */
  expanded_length: number;
  /** lm_head output at the last prompt position, whole vocabulary. */
  last_logits: number[];
  last_argmax: number;
  /** L2 norm of the last prompt position after each decoder layer (before the final norm). */
  layer_last_token_norms: number[];
  /** Greedy answer ids, ending with </s> when the model stopped. */
  greedy_ids: number[];
  greedy_text: string;
  correct: boolean;
}

export interface ModelShapesGolden {
  format: 'shortv.golden';
  version: 1;
  note: string;
  samples: ModelShapesGoldenSample[];
}

/**
 * URL of every model file under `base`, the URL the `model/` folder is served at (for example
 * what a bundler gives for the copied folder). A base without a trailing slash is taken as the
 * folder itself, not as a file inside its parent.
 */
export function modelShapesUrls(base: string | URL, origin?: string | URL): Record<ModelShapesFile, string> {
  const text = typeof base === 'string' ? base : base.href;
  const folder = text.endsWith('/') ? text : `${text}/`;
  const root = origin === undefined ? new URL(folder) : new URL(folder, origin);
  const out = {} as Record<ModelShapesFile, string>;
  for (const file of MODEL_SHAPES_FILES) out[file] = new URL(file, root).href;
  return out;
}
