import { encodeModel, graphTensorBytes, type ModelProto } from '@shortv/onnx';
import type { LlavaConfig } from '../../config/types.ts';
import type { EmitOptions } from '../../graphs/common.ts';
import type { WeightMap } from '../../reference/math.ts';
import type { ModelFolder } from '../../weights/folder.ts';
import { emitTransformersJsDecoderGraph, type TransformersJsDecoderForm } from './decoder.ts';
import { emitTransformersJsEmbedGraph, emitTransformersJsVisionGraph } from './encoders.ts';

/** One file of an export: a path relative to the export folder, and its bytes in order (large files in chunks). */
export interface TransformersJsFile {
  readonly path: string;
  readonly chunks: readonly Uint8Array[];
}

/** Files copied as they are from the source folder when present (tokenizer, image processor, chat template). */
export const TRANSFORMERS_JS_COPIED_FILES = [
  'generation_config.json',
  'preprocessor_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'chat_template.jinja',
  'chat_template.json',
] as const;

/** Graphs whose tensors exceed this go to `<name>.onnx_data` next to the graph (protobuf stops at 2 GB). */
export const TRANSFORMERS_JS_EXTERNAL_DATA_BYTES = 1.5e9;

export interface TransformersJsFilesOptions extends EmitOptions {
  /** Move a graph's weights to `<name>.onnx_data` above this many bytes (default 1.5e9). */
  readonly externalDataAbove?: number;
}

const SESSIONS = ['vision_encoder', 'embed_tokens', 'decoder_model_merged'] as const;

/**
 * How many `<image>` tokens transformers.js' LlavaProcessor must add beyond (H/p)*(W/p) for the prompt to hold
 * one token per feature row: it adds `num_additional_image_tokens` without looking at
 * `vision_feature_select_strategy` (Python transformers subtracts one for `default`), so the export states the
 * count that matches this model's feature rows.
 */
export function additionalImageTokens(config: LlavaConfig): number {
  const perSide = Math.floor(config.vision.imageSize / config.vision.patchSize);
  return config.imageSeqLength - perSide * perSide;
}

const text = (path: string, value: string): TransformersJsFile => ({
  path,
  chunks: [new TextEncoder().encode(value)],
});

const json = (path: string, value: unknown): TransformersJsFile =>
  text(path, `${JSON.stringify(value, null, 2)}\n`);

function graphFiles(name: string, model: ModelProto, externalDataAbove: number): TransformersJsFile[] {
  const large = model.graph !== undefined && graphTensorBytes(model.graph) > externalDataAbove;
  const location = `${name}.onnx_data`;
  const encoded = encodeModel(model, large ? { externalData: { location } } : {});
  const files: TransformersJsFile[] = [{ path: `onnx/${name}.onnx`, chunks: [encoded.bytes] }];
  if (encoded.externalData) files.push({ path: `onnx/${location}`, chunks: encoded.externalData.chunks });
  return files;
}

/**
 * The model folder transformers.js (4.x) loads for a LLaVA model: `onnx/vision_encoder.onnx`,
 * `onnx/embed_tokens.onnx`, `onnx/decoder_model_merged.onnx` (fp32, no dtype suffix), config.json with a
 * `transformers.js_config`, processor_config.json with an image-token count that matches the feature rows,
 * and the tokenizer, image-processor and generation files of the source folder.
 */
export async function transformersJsFiles(
  folder: ModelFolder,
  config: LlavaConfig,
  weights: WeightMap,
  form: TransformersJsDecoderForm,
  options: TransformersJsFilesOptions = {},
): Promise<TransformersJsFile[]> {
  const files: TransformersJsFile[] = [];
  const graphs: Record<(typeof SESSIONS)[number], () => ModelProto> = {
    vision_encoder: () => emitTransformersJsVisionGraph(config, weights, form),
    embed_tokens: () => emitTransformersJsEmbedGraph(config, weights, form),
    decoder_model_merged: () => emitTransformersJsDecoderGraph(config, weights, form, options),
  };
  const external: Record<string, number> = {};
  for (const name of SESSIONS) {
    const emitted = graphFiles(
      name,
      graphs[name](),
      options.externalDataAbove ?? TRANSFORMERS_JS_EXTERNAL_DATA_BYTES,
    );
    if (emitted.length > 1) external[`${name}.onnx`] = 1;
    files.push(...emitted);
  }
  const source = JSON.parse(await folder.readText('config.json')) as Record<string, unknown>;
  const frozen = [...form.frozenLayers].sort((a, b) => a - b);
  files.push(
    json('config.json', {
      ...source,
      'transformers.js_config': {
        dtype: 'fp32',
        ...(Object.keys(external).length > 0 ? { use_external_data_format: external } : {}),
      },
      shortv_export: {
        format: 'transformers.js',
        form: frozen.length > 0 ? 'shortv' : 'dense',
        frozen_layers: frozen,
        ...(frozen.length > 0 ? { marker_channel: config.text.hiddenSize } : {}),
      },
    }),
  );
  const processor = (await folder.exists('processor_config.json'))
    ? (JSON.parse(await folder.readText('processor_config.json')) as Record<string, unknown>)
    : { processor_class: 'LlavaProcessor', image_token: '<image>' };
  files.push(
    json('processor_config.json', {
      ...processor,
      patch_size: config.vision.patchSize,
      num_additional_image_tokens: additionalImageTokens(config),
    }),
  );
  for (const name of TRANSFORMERS_JS_COPIED_FILES) {
    if (await folder.exists(name)) files.push(text(name, await folder.readText(name)));
  }
  return files;
}
