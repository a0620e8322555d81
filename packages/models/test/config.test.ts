import { isShortvError } from '@shortv/tensor';
import { describe, expect, it } from 'vitest';
import { parseLlavaConfig, parseLlavaConfigText } from '../src/index.ts';

function codeOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    if (isShortvError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected an error');
}

// Abridged from llava-hf/llava-1.5-7b-hf's config.json.
const llava15 = {
  architectures: ['LlavaForConditionalGeneration'],
  ignore_index: -100,
  image_token_index: 32000,
  model_type: 'llava',
  pad_token_id: 32001,
  projector_hidden_act: 'gelu',
  text_config: {
    architectures: ['LlamaForCausalLM'],
    max_position_embeddings: 4096,
    model_type: 'llama',
    rms_norm_eps: 1e-5,
    torch_dtype: 'float16',
    vocab_size: 32064,
  },
  tie_word_embeddings: false,
  torch_dtype: 'float16',
  vision_config: {
    hidden_size: 1024,
    image_size: 336,
    intermediate_size: 4096,
    model_type: 'clip_vision_model',
    num_attention_heads: 16,
    num_hidden_layers: 24,
    patch_size: 14,
    projection_dim: 768,
    vocab_size: 32000,
  },
  vision_feature_layer: -2,
  vision_feature_select_strategy: 'default',
};

describe('parseLlavaConfig', () => {
  it('fills HF defaults for a LLaVA-1.5 config', () => {
    const c = parseLlavaConfig(llava15);
    expect(c.text).toMatchObject({
      modelType: 'llama',
      hiddenSize: 4096,
      intermediateSize: 11008,
      numLayers: 32,
      numHeads: 32,
      numKvHeads: 32,
      headDim: 128,
      vocabSize: 32064,
      rmsNormEps: 1e-5,
      ropeTheta: 10000,
      ropeScaling: null,
      qkvBias: false,
      oBias: false,
      hiddenAct: 'silu',
    });
    expect(c.text.slidingWindows.every((w) => w === null)).toBe(true);
    expect(c.vision).toMatchObject({
      hiddenSize: 1024,
      numLayers: 24,
      patchesPerSide: 24,
      numPatches: 576,
      hiddenAct: 'quick_gelu',
      layerNormEps: 1e-5,
      classToken: true,
      preLayerNorm: true,
    });
    expect(c.visionFeatureLayers).toEqual([23]);
    expect(c.visionLayersUsed).toBe(23);
    expect(c.imageSeqLength).toBe(576);
    expect(c.projectorHiddenAct).toBe('gelu');
    expect(c.projectorBias).toBe(true);
    expect(c.tieWordEmbeddings).toBe(false);
    expect(c.imageTokenIndex).toBe(32000);
  });

  it('reads qwen2 + siglip with GQA, biases, full strategy and tied embeddings from text_config', () => {
    const c = parseLlavaConfig({
      model_type: 'llava',
      image_token_index: 151646,
      vision_feature_select_strategy: 'full',
      vision_feature_layer: -1,
      text_config: {
        model_type: 'qwen2',
        hidden_size: 896,
        num_attention_heads: 14,
        num_key_value_heads: 2,
        num_hidden_layers: 24,
        intermediate_size: 4864,
        rope_theta: 1000000,
        tie_word_embeddings: true,
      },
      vision_config: {
        model_type: 'siglip_vision_model',
        hidden_size: 1152,
        num_attention_heads: 16,
        image_size: 384,
        patch_size: 14,
        num_hidden_layers: 26,
        intermediate_size: 4304,
      },
    });
    expect(c.text).toMatchObject({
      modelType: 'qwen2',
      numKvHeads: 2,
      headDim: 64,
      qkvBias: true,
      oBias: false,
      ropeTheta: 1e6,
      vocabSize: 151936,
    });
    expect(c.vision).toMatchObject({
      hiddenAct: 'gelu_tanh',
      layerNormEps: 1e-6,
      classToken: false,
      preLayerNorm: false,
      patchBias: true,
      numPatches: 729,
    });
    expect(c.imageSeqLength).toBe(729);
    expect(c.visionFeatureLayers).toEqual([26]);
    expect(c.tieWordEmbeddings).toBe(true);
  });

  it('drops the first row under `default` even for SigLIP, as HF does', () => {
    const c = parseLlavaConfig({
      model_type: 'llava',
      vision_config: { model_type: 'siglip_vision_model', image_size: 32, patch_size: 8 },
    });
    expect(c.imageSeqLength).toBe(15);
  });

  it('reads rope scaling in both spellings and rejects unknown kinds', () => {
    const linear = parseLlavaConfig({
      model_type: 'llava',
      text_config: { rope_scaling: { type: 'linear', factor: 2 } },
    });
    expect(linear.text.ropeScaling).toEqual({ type: 'linear', factor: 2 });
    const dynamic = parseLlavaConfig({
      model_type: 'llava',
      text_config: { rope_parameters: { rope_type: 'dynamic', factor: 4, rope_theta: 5e5 } },
    });
    expect(dynamic.text.ropeScaling).toEqual({ type: 'dynamic', factor: 4 });
    expect(dynamic.text.ropeTheta).toBe(5e5);
    const err = codeOf(() =>
      parseLlavaConfig({
        model_type: 'llava',
        text_config: { rope_scaling: { rope_type: 'yarn', factor: 2 } },
      }),
    );
    expect(err.code).toBe('E_MODEL_UNSUPPORTED');
    expect(err.message).toContain('yarn');
    expect(err.message).toContain('linear, dynamic');
  });

  it('resolves negative and list feature layers against numLayers + 1 hidden states', () => {
    const base = {
      model_type: 'llava',
      vision_config: { num_hidden_layers: 4, image_size: 16, patch_size: 4 },
    };
    expect(parseLlavaConfig({ ...base, vision_feature_layer: -1 }).visionFeatureLayers).toEqual([4]);
    expect(parseLlavaConfig({ ...base, vision_feature_layer: 0 }).visionFeatureLayers).toEqual([0]);
    const multi = parseLlavaConfig({ ...base, vision_feature_layer: [-2, 1] });
    expect(multi.visionFeatureLayers).toEqual([3, 1]);
    expect(multi.visionLayersUsed).toBe(3);
    expect(multi.projectorInputSize).toBe(1536);
    expect(codeOf(() => parseLlavaConfig({ ...base, vision_feature_layer: -6 })).code).toBe('E_MODEL_CONFIG');
  });

  it('mistral: sliding window on every layer; qwen2: only with use_sliding_window from max_window_layers', () => {
    const m = parseLlavaConfig({
      model_type: 'llava',
      text_config: { model_type: 'mistral', num_hidden_layers: 2 },
    });
    expect(m.text.slidingWindows).toEqual([4096, 4096]);
    expect(m.text.numKvHeads).toBe(8);
    const q = parseLlavaConfig({
      model_type: 'llava',
      text_config: {
        model_type: 'qwen2',
        num_hidden_layers: 3,
        use_sliding_window: true,
        sliding_window: 8,
        max_window_layers: 1,
      },
    });
    expect(q.text.slidingWindows).toEqual([null, 8, 8]);
  });

  it('names the supported model types when one is not', () => {
    const top = codeOf(() => parseLlavaConfig({ model_type: 'llava_next' }));
    expect(top.code).toBe('E_MODEL_UNSUPPORTED');
    expect(top.message).toContain('llava_next');
    expect(top.message).toContain('llava');
    const text = codeOf(() =>
      parseLlavaConfig({ model_type: 'llava', text_config: { model_type: 'gemma' } }),
    );
    expect(text.code).toBe('E_MODEL_UNSUPPORTED');
    expect(text.message).toContain('llama, qwen2, mistral');
    const vision = codeOf(() =>
      parseLlavaConfig({ model_type: 'llava', vision_config: { model_type: 'pixtral' } }),
    );
    expect(vision.message).toContain('clip_vision_model, siglip_vision_model');
  });

  it('rejects malformed fields with the field path', () => {
    const bad = codeOf(() => parseLlavaConfig({ model_type: 'llava', text_config: { hidden_size: 'big' } }));
    expect(bad.code).toBe('E_MODEL_CONFIG');
    expect(bad.message).toContain('text_config.hidden_size');
    const gqa = codeOf(() =>
      parseLlavaConfig({
        model_type: 'llava',
        text_config: { num_attention_heads: 4, num_key_value_heads: 3, hidden_size: 64 },
      }),
    );
    expect(gqa.message).toContain('num_key_value_heads');
    const seq = codeOf(() => parseLlavaConfig({ ...llava15, image_seq_length: 577 }));
    expect(seq.message).toContain('image_seq_length');
    expect(codeOf(() => parseLlavaConfigText('{oops')).code).toBe('E_MODEL_CONFIG');
    expect(codeOf(() => parseLlavaConfig({ model_type: 'llava', projector_hidden_act: 'mish' })).code).toBe(
      'E_MODEL_UNSUPPORTED',
    );
  });
});
