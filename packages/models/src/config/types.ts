/** Activation functions the emitters and the reference implement, by their math (not their HF alias). */
export type Activation = 'gelu' | 'gelu_tanh' | 'quick_gelu' | 'silu' | 'relu';

export type TextModelType = 'llama' | 'qwen2' | 'mistral';
export type VisionModelType = 'clip_vision_model' | 'siglip_vision_model';

export const SUPPORTED_TEXT_MODEL_TYPES: readonly TextModelType[] = ['llama', 'qwen2', 'mistral'];
export const SUPPORTED_VISION_MODEL_TYPES: readonly VisionModelType[] = [
  'clip_vision_model',
  'siglip_vision_model',
];
export const SUPPORTED_MODEL_TYPES: readonly string[] = ['llava'];

export interface RopeScaling {
  /** linear: positions divided by factor; dynamic: NTK base growth once a sequence passes maxPositionEmbeddings. */
  readonly type: 'linear' | 'dynamic';
  readonly factor: number;
}

export interface TextConfig {
  readonly modelType: TextModelType;
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly hiddenAct: Activation;
  readonly rmsNormEps: number;
  readonly maxPositionEmbeddings: number;
  readonly ropeTheta: number;
  readonly ropeScaling: RopeScaling | null;
  /** Biases on q/k/v projections (qwen2 always; llama with attention_bias). */
  readonly qkvBias: boolean;
  /** Bias on o_proj (llama with attention_bias only). */
  readonly oBias: boolean;
  readonly mlpBias: boolean;
  /** Per layer: a key is visible to a query only when qPos - kPos < window; null = unbounded. */
  readonly slidingWindows: readonly (number | null)[];
}

export interface VisionConfig {
  readonly modelType: VisionModelType;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly numChannels: number;
  readonly imageSize: number;
  readonly patchSize: number;
  readonly hiddenAct: Activation;
  readonly layerNormEps: number;
  /** CLIP prepends a learned class token and layer-norms the embeddings before the encoder; SigLIP does neither. */
  readonly classToken: boolean;
  readonly preLayerNorm: boolean;
  readonly patchBias: boolean;
  /** Patches per image side and in all. */
  readonly patchesPerSide: number;
  readonly numPatches: number;
}

export interface LlavaConfig {
  readonly modelType: 'llava';
  readonly text: TextConfig;
  readonly vision: VisionConfig;
  readonly imageTokenIndex: number;
  /**
   * Vision hidden-state indices whose features feed the projector (concatenated along the hidden axis when
   * there are several). Index k is the state after k encoder layers; 0 is the embeddings (after pre-LN for
   * CLIP). Negative config values are resolved against numLayers + 1 states, as HF's hidden_states tuple.
   */
  readonly visionFeatureLayers: readonly number[];
  readonly visionFeatureSelectStrategy: 'default' | 'full';
  /** Encoder layers that have to run: the largest feature index. Later layers' weights are never read. */
  readonly visionLayersUsed: number;
  /**
   * Rows each image contributes to the decoder sequence (n_v): the tower's rows (patches, plus the class
   * token for CLIP) minus the first row under `default`, exactly as HF selects them.
   */
  readonly imageSeqLength: number;
  readonly projectorHiddenAct: Activation;
  readonly projectorBias: boolean;
  /** Projector input width: vision hidden size times the number of feature layers. */
  readonly projectorInputSize: number;
  readonly tieWordEmbeddings: boolean;
}
