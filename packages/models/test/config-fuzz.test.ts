import { isShortvError } from '@shortv/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type LlavaConfig, parseLlavaConfig, parseLlavaConfigText } from '../src/index.ts';

// The bundled demo model's config.json: every mutation starts from a config that parses.
const BASE = {
  architectures: ['LlavaForConditionalGeneration'],
  model_type: 'llava',
  image_token_index: 4,
  image_seq_length: 144,
  projector_hidden_act: 'gelu',
  multimodal_projector_bias: true,
  vision_feature_layer: -2,
  vision_feature_select_strategy: 'default',
  tie_word_embeddings: false,
  vision_config: {
    model_type: 'clip_vision_model',
    hidden_size: 128,
    intermediate_size: 512,
    num_hidden_layers: 4,
    num_attention_heads: 4,
    num_channels: 3,
    image_size: 72,
    patch_size: 6,
    hidden_act: 'gelu',
    layer_norm_eps: 1e-5,
  },
  text_config: {
    model_type: 'llama',
    vocab_size: 60,
    hidden_size: 128,
    intermediate_size: 384,
    num_hidden_layers: 12,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 32,
    hidden_act: 'silu',
    max_position_embeddings: 512,
    rms_norm_eps: 1e-6,
    rope_theta: 10000.0,
    rope_parameters: { rope_type: 'default', rope_theta: 10000.0 },
    tie_word_embeddings: false,
  },
};

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Paths to every value of a JSON tree. */
function paths(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const here = [prefix];
  if (Array.isArray(value)) return [...here, ...value.flatMap((v, i) => paths(v, [...prefix, i]))];
  if (value && typeof value === 'object') {
    return [...here, ...Object.entries(value).flatMap(([k, v]) => paths(v, [...prefix, k]))];
  }
  return here;
}

function mutate(root: Json, path: (string | number)[], replacement: Json | undefined): Json {
  if (path.length === 0) return replacement ?? null;
  const copy = structuredClone(root) as Record<string | number, Json>;
  let node = copy as Record<string | number, Json>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, Json>;
  const last = path[path.length - 1]!;
  if (replacement === undefined) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else node[last] = replacement;
  return copy;
}

const ALL_PATHS = paths(BASE as Json);

/** Hostile values: wrong types, zero, negative, fractional, huge and non-finite-looking numbers. */
const hostile: fc.Arbitrary<Json | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom<Json>(
    0,
    -1,
    1,
    0.5,
    -0.5,
    1e308,
    -1e308,
    2 ** 53,
    2 ** 31,
    1e-300,
    '',
    'NaN',
    'Infinity',
    null,
    true,
    [],
    {},
  ),
  fc.integer({ min: -5, max: 100_000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 12 }),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);

/** A parsed config either is self-consistent or the parse threw a typed E_MODEL_* error. */
function checkOutcome(run: () => LlavaConfig): void {
  let config: LlavaConfig;
  try {
    config = run();
  } catch (error) {
    if (!(isShortvError(error) && error.code.startsWith('E_MODEL'))) throw error;
    return;
  }
  const t = config.text;
  for (const n of [
    t.hiddenSize,
    t.numLayers,
    t.numHeads,
    t.numKvHeads,
    t.headDim,
    t.vocabSize,
    t.maxPositionEmbeddings,
  ]) {
    expect(Number.isSafeInteger(n) && n > 0).toBe(true);
  }
  expect(t.numHeads % t.numKvHeads).toBe(0);
  expect(Number.isFinite(t.ropeTheta) && t.ropeTheta > 0).toBe(true);
  expect(config.imageSeqLength).toBeGreaterThan(0);
  for (const layer of config.visionFeatureLayers) {
    expect(layer >= 0 && layer <= config.vision.numLayers).toBe(true);
  }
}

describe('config.json parsing under fuzzing', () => {
  it('parses the unmutated base config', () => {
    expect(parseLlavaConfig(BASE).text.numLayers).toBe(12);
  });

  it('gives a consistent config or a typed error for any value replaced or deleted', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ALL_PATHS), hostile, (path, value) => {
        checkOutcome(() => parseLlavaConfig(mutate(BASE as Json, path, value)));
      }),
      { numRuns: 5000 },
    );
  });

  it('gives a consistent config or a typed error for mutated config.json text', () => {
    const text = JSON.stringify(BASE, null, 2);
    const edit = fc.tuple(fc.nat(text.length), fc.nat(8), fc.string({ maxLength: 6 }));
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) => {
        let mutated = text;
        for (const [at, cut, insert] of edits) {
          const i = at % (mutated.length + 1);
          mutated = mutated.slice(0, i) + insert + mutated.slice(i + cut);
        }
        checkOutcome(() => parseLlavaConfigText(mutated));
      }),
      { numRuns: 5000 },
    );
  });

  it('gives a typed error for arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => checkOutcome(() => parseLlavaConfig(value))),
      { numRuns: 2000 },
    );
  });
});
