import { ShortvError } from '@shortv/tensor';
import {
  configError,
  isObject,
  type JsonObject,
  MAX_LAYERS,
  readBool,
  readInt,
  readNonNegativeInt,
  readNumber,
  readObject,
  readOptionalInt,
  readPositiveInt,
  readPositiveNumber,
  readString,
} from './fields.ts';
import {
  type Activation,
  type LlavaConfig,
  type RopeScaling,
  SUPPORTED_MODEL_TYPES,
  SUPPORTED_TEXT_MODEL_TYPES,
  SUPPORTED_VISION_MODEL_TYPES,
  type TextConfig,
  type TextModelType,
  type VisionConfig,
  type VisionModelType,
} from './types.ts';

// Defaults below are those of transformers' LlavaConfig, LlamaConfig, Qwen2Config, MistralConfig,
// CLIPVisionConfig and SiglipVisionConfig, so a config.json that leaves a field out means what it means there.

const ACTIVATION_ALIASES: Readonly<Record<string, Activation>> = {
  gelu: 'gelu',
  gelu_pytorch_tanh: 'gelu_tanh',
  gelu_new: 'gelu_tanh',
  quick_gelu: 'quick_gelu',
  silu: 'silu',
  swish: 'silu',
  relu: 'relu',
};

function readActivation(obj: JsonObject, key: string, fallback: string, path: string): Activation {
  const name = readString(obj, key, fallback, path);
  const act = ACTIVATION_ALIASES[name];
  if (act === undefined) {
    throw new ShortvError(
      'E_MODEL_UNSUPPORTED',
      `config.json: ${path}${key} "${name}" is not supported; supported: ${Object.keys(ACTIVATION_ALIASES).join(', ')}`,
    );
  }
  return act;
}

function unsupportedType(path: string, got: string, supported: readonly string[]): ShortvError {
  return new ShortvError(
    'E_MODEL_UNSUPPORTED',
    `config.json: ${path}model_type "${got}" is not supported; supported: ${supported.join(', ')}`,
  );
}

const TEXT_DEFAULTS: Readonly<
  Record<
    TextModelType,
    {
      vocab: number;
      hidden: number;
      inter: number;
      kvHeads: number | null;
      maxPos: number;
      window: number | null;
    }
  >
> = {
  llama: { vocab: 32000, hidden: 4096, inter: 11008, kvHeads: null, maxPos: 2048, window: null },
  qwen2: { vocab: 151936, hidden: 4096, inter: 22016, kvHeads: 32, maxPos: 32768, window: 4096 },
  mistral: { vocab: 32000, hidden: 4096, inter: 14336, kvHeads: 8, maxPos: 131072, window: 4096 },
};

function parseRope(obj: JsonObject, path: string): { theta: number; scaling: RopeScaling | null } {
  // Newer transformers write `rope_parameters` (theta inside); older ones `rope_theta` + `rope_scaling`.
  const params = readObject(obj, 'rope_parameters', path);
  const scalingObj = params ?? readObject(obj, 'rope_scaling', path);
  const theta = params
    ? readPositiveNumber(
        params,
        'rope_theta',
        readPositiveNumber(obj, 'rope_theta', 10000, path),
        `${path}rope_parameters.`,
      )
    : readPositiveNumber(obj, 'rope_theta', 10000, path);
  if (scalingObj === null) return { theta, scaling: null };
  const scalingPath = `${path}${params ? 'rope_parameters' : 'rope_scaling'}.`;
  const type = readString(
    scalingObj,
    'rope_type',
    readString(scalingObj, 'type', 'default', scalingPath),
    scalingPath,
  );
  if (type === 'default') return { theta, scaling: null };
  if (type !== 'linear' && type !== 'dynamic') {
    throw new ShortvError(
      'E_MODEL_UNSUPPORTED',
      `config.json: ${scalingPath}rope_type "${type}" is not supported; supported: default, linear, dynamic`,
    );
  }
  const factor = readNumber(scalingObj, 'factor', Number.NaN, scalingPath);
  if (!(factor >= 1))
    throw configError(`${scalingPath}factor`, `must be a number >= 1 for ${type} RoPE scaling`);
  return { theta, scaling: { type, factor } };
}

function slidingWindows(
  obj: JsonObject,
  type: TextModelType,
  numLayers: number,
  path: string,
): (number | null)[] {
  const defaults = TEXT_DEFAULTS[type];
  if (type === 'llama') return new Array<number | null>(numLayers).fill(null);
  const window =
    obj.sliding_window === null ? null : (readOptionalInt(obj, 'sliding_window', path) ?? defaults.window);
  if (type === 'mistral') return new Array<number | null>(numLayers).fill(window);
  // qwen2: the window applies only with use_sliding_window, and only from max_window_layers on.
  if (!readBool(obj, 'use_sliding_window', false, path) || window === null) {
    return new Array<number | null>(numLayers).fill(null);
  }
  const layerTypes = obj.layer_types;
  if (Array.isArray(layerTypes)) {
    if (layerTypes.length !== numLayers)
      throw configError(`${path}layer_types`, `must list ${numLayers} layers`);
    return layerTypes.map((t) => (t === 'sliding_attention' ? window : null));
  }
  const from = readInt(obj, 'max_window_layers', 28, path);
  return Array.from({ length: numLayers }, (_, i) => (i >= from ? window : null));
}

function parseText(obj: JsonObject, path: string): TextConfig {
  const modelType = readString(obj, 'model_type', 'llama', path);
  if (!(SUPPORTED_TEXT_MODEL_TYPES as readonly string[]).includes(modelType)) {
    throw unsupportedType(path, modelType, SUPPORTED_TEXT_MODEL_TYPES);
  }
  const type = modelType as TextModelType;
  const d = TEXT_DEFAULTS[type];
  const hiddenSize = readPositiveInt(obj, 'hidden_size', d.hidden, path);
  const numHeads = readPositiveInt(obj, 'num_attention_heads', 32, path);
  const numKvHeads = readPositiveInt(obj, 'num_key_value_heads', d.kvHeads ?? numHeads, path);
  const headDim = readPositiveInt(obj, 'head_dim', Math.floor(hiddenSize / numHeads), path);
  const numLayers = readPositiveInt(obj, 'num_hidden_layers', 32, path, MAX_LAYERS);
  if (numHeads % numKvHeads !== 0) {
    throw configError(
      `${path}num_key_value_heads`,
      `(${numKvHeads}) must divide num_attention_heads (${numHeads})`,
    );
  }
  if (headDim % 2 !== 0)
    throw configError(`${path}head_dim`, `must be even for rotary embeddings, got ${headDim}`);
  const attentionBias = type === 'llama' && readBool(obj, 'attention_bias', false, path);
  const rope = parseRope(obj, path);
  return {
    modelType: type,
    vocabSize: readPositiveInt(obj, 'vocab_size', d.vocab, path),
    hiddenSize,
    intermediateSize: readPositiveInt(obj, 'intermediate_size', d.inter, path),
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    hiddenAct: readActivation(obj, 'hidden_act', 'silu', path),
    rmsNormEps: readPositiveNumber(obj, 'rms_norm_eps', 1e-6, path),
    maxPositionEmbeddings: readPositiveInt(obj, 'max_position_embeddings', d.maxPos, path),
    ropeTheta: rope.theta,
    ropeScaling: rope.scaling,
    qkvBias: type === 'qwen2' || attentionBias,
    oBias: attentionBias,
    mlpBias: type === 'llama' && readBool(obj, 'mlp_bias', false, path),
    slidingWindows: slidingWindows(obj, type, numLayers, path),
  };
}

function parseVision(obj: JsonObject, path: string): VisionConfig {
  const modelType = readString(obj, 'model_type', 'clip_vision_model', path);
  if (!(SUPPORTED_VISION_MODEL_TYPES as readonly string[]).includes(modelType)) {
    throw unsupportedType(path, modelType, SUPPORTED_VISION_MODEL_TYPES);
  }
  const type = modelType as VisionModelType;
  const clip = type === 'clip_vision_model';
  const hiddenSize = readPositiveInt(obj, 'hidden_size', 768, path);
  const numHeads = readPositiveInt(obj, 'num_attention_heads', 12, path);
  const imageSize = readPositiveInt(obj, 'image_size', 224, path);
  const patchSize = readPositiveInt(obj, 'patch_size', clip ? 32 : 16, path);
  if (hiddenSize % numHeads !== 0) {
    throw configError(
      `${path}hidden_size`,
      `(${hiddenSize}) must be a multiple of num_attention_heads (${numHeads})`,
    );
  }
  const patchesPerSide = Math.floor(imageSize / patchSize);
  return {
    modelType: type,
    hiddenSize,
    intermediateSize: readPositiveInt(obj, 'intermediate_size', 3072, path),
    numLayers: readPositiveInt(obj, 'num_hidden_layers', 12, path, MAX_LAYERS),
    numHeads,
    headDim: hiddenSize / numHeads,
    numChannels: readPositiveInt(obj, 'num_channels', 3, path),
    imageSize,
    patchSize,
    hiddenAct: readActivation(obj, 'hidden_act', clip ? 'quick_gelu' : 'gelu_pytorch_tanh', path),
    layerNormEps: readPositiveNumber(obj, 'layer_norm_eps', clip ? 1e-5 : 1e-6, path),
    classToken: clip,
    preLayerNorm: clip,
    patchBias: !clip,
    patchesPerSide,
    numPatches: patchesPerSide * patchesPerSide,
  };
}

// LlavaConfig's default vision tower (CLIP ViT-L/14 at 336 px) when vision_config is absent.
const DEFAULT_LLAVA_VISION: JsonObject = {
  model_type: 'clip_vision_model',
  intermediate_size: 4096,
  hidden_size: 1024,
  patch_size: 14,
  image_size: 336,
  num_hidden_layers: 24,
  num_attention_heads: 16,
};

function featureLayers(obj: JsonObject, numVisionLayers: number): number[] {
  const raw = obj.vision_feature_layer ?? -2;
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) throw configError('vision_feature_layer', 'must name at least one layer');
  const states = numVisionLayers + 1;
  return list.map((value) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < -states || value >= states) {
      throw configError(
        'vision_feature_layer',
        `must be an integer (or list of integers) in [${-states}, ${states - 1}], got ${JSON.stringify(value)}`,
      );
    }
    return value < 0 ? states + value : value;
  });
}

/** Parses a Hugging Face LLaVA config.json (already JSON-decoded) into a normalised, validated config. */
export function parseLlavaConfig(json: unknown): LlavaConfig {
  if (!isObject(json)) throw configError('(root)', 'must be a JSON object');
  const modelType = readString(json, 'model_type', '', '');
  if (modelType !== 'llava') throw unsupportedType('', modelType || '(missing)', SUPPORTED_MODEL_TYPES);
  const textObj = readObject(json, 'text_config', '') ?? {};
  const visionObj = readObject(json, 'vision_config', '') ?? DEFAULT_LLAVA_VISION;
  const text = parseText(textObj, 'text_config.');
  const vision = parseVision(visionObj, 'vision_config.');
  const strategy = readString(json, 'vision_feature_select_strategy', 'default', '');
  if (strategy !== 'default' && strategy !== 'full') {
    throw configError('vision_feature_select_strategy', `must be "default" or "full", got "${strategy}"`);
  }
  const layers = featureLayers(json, vision.numLayers);
  // HF's `default` drops the first feature row whatever the tower: the class token for CLIP, but a real
  // patch for SigLIP (SigLIP LLaVA checkpoints therefore ship with `full`).
  const seqLength = vision.numPatches + (vision.classToken ? 1 : 0) - (strategy === 'default' ? 1 : 0);
  const declared = readOptionalInt(json, 'image_seq_length', '');
  if (declared !== null && declared !== seqLength) {
    throw configError(
      'image_seq_length',
      `is ${declared} but the vision tower yields ${seqLength} features per image ` +
        `(${vision.patchesPerSide}x${vision.patchesPerSide} patches, strategy "${strategy}"); fix one of them`,
    );
  }
  // HF forwards text_config.tie_word_embeddings when the top-level flag is false or absent.
  const tie =
    readBool(json, 'tie_word_embeddings', false, '') ||
    readBool(textObj, 'tie_word_embeddings', false, 'text_config.');
  return {
    modelType: 'llava',
    text,
    vision,
    imageTokenIndex: readNonNegativeInt(
      json,
      'image_token_index',
      readNonNegativeInt(json, 'image_token_id', 32000, ''),
      '',
    ),
    visionFeatureLayers: layers,
    visionFeatureSelectStrategy: strategy,
    visionLayersUsed: Math.max(...layers),
    imageSeqLength: seqLength,
    projectorHiddenAct: readActivation(json, 'projector_hidden_act', 'gelu', ''),
    projectorBias: readBool(json, 'multimodal_projector_bias', true, ''),
    projectorInputSize: vision.hiddenSize * layers.length,
    tieWordEmbeddings: tie,
  };
}

/** Reads config.json text; JSON syntax errors become E_MODEL_CONFIG. */
export function parseLlavaConfigText(text: string): LlavaConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ShortvError('E_MODEL_CONFIG', `config.json is not valid JSON: ${(cause as Error).message}`, {
      cause,
    });
  }
  return parseLlavaConfig(json);
}
