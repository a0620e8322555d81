import {
  AttributeType,
  GraphBuilder,
  type ModelProto,
  type NodeProto,
  tensorToProto,
  valueInfo,
} from '@shortv/onnx';
import { ShortvError, Tensor } from '@shortv/tensor';
import type { LlavaConfig } from '../../config/types.ts';
import { emitEmbedGraph } from '../../graphs/embed.ts';
import { emitVisionGraph } from '../../graphs/vision.ts';
import type { WeightMap } from '../../reference/math.ts';
import { TRANSFORMERS_JS_DIMS, type TransformersJsDecoderForm, tjsEmbedWidth } from './decoder.ts';

/**
 * `embed_tokens.onnx`: `input_ids` -> `inputs_embeds`. For a ShortV export the table gets one more column of
 * zeros (the text marker), so marking costs nothing at run time: it is the same single Gather.
 */
export function emitTransformersJsEmbedGraph(
  config: LlavaConfig,
  weights: WeightMap,
  form: TransformersJsDecoderForm,
): ModelProto {
  const width = tjsEmbedWidth(config, form);
  if (width === config.text.hiddenSize) return emitEmbedGraph(config, weights);
  const table = weights.get('text.embed_tokens.weight');
  if (table === undefined) {
    throw new ShortvError(
      'E_MODEL_MISSING_TENSOR',
      'cannot emit the graph: weight text.embed_tokens.weight was not loaded',
    );
  }
  const [vocab, d] = table.dims as [number, number];
  const marked = new Float32Array(vocab * width);
  for (let r = 0; r < vocab; r++) marked.set(table.data.subarray(r * d, (r + 1) * d), r * width);
  const g = new GraphBuilder('llava_embed_tokens_marked');
  const ids = g.input('input_ids', 'int64', [TRANSFORMERS_JS_DIMS.batch, TRANSFORMERS_JS_DIMS.seq]);
  const weight = g.initializer(
    'text.embed_tokens.weight.marked',
    new Tensor('float32', marked, [vocab, width]),
  );
  const rows = g.scope('/model/embed_tokens', () => g.op.Gather(weight, ids, { axis: 0 }));
  g.output('inputs_embeds', 'float32', [TRANSFORMERS_JS_DIMS.batch, TRANSFORMERS_JS_DIMS.seq, width], {
    from: rows,
  });
  return g.toModel({
    docString: 'LLaVA token embeddings with a text marker channel (0): input_ids -> inputs_embeds',
  });
}

/**
 * `vision_encoder.onnx`: `pixel_values` -> `image_features`. For a ShortV export each feature row gets a last
 * channel of 1 (the visual marker) appended after the projector.
 */
export function emitTransformersJsVisionGraph(
  config: LlavaConfig,
  weights: WeightMap,
  form: TransformersJsDecoderForm,
): ModelProto {
  const model = emitVisionGraph(config, weights);
  const width = tjsEmbedWidth(config, form);
  if (width === config.text.hiddenSize) return model;
  const graph = model.graph!;
  const producer = graph.node?.find((n) => n.output?.includes('image_features'));
  if (producer === undefined) {
    throw new ShortvError('E_MODEL_GRAPH', 'the vision graph has no node producing image_features');
  }
  const features = 'image_features_unmarked';
  producer.output = producer.output!.map((o) => (o === 'image_features' ? features : o));
  const one = 'visual_marker_one';
  const zero = 'visual_marker_zero';
  const two = 'visual_marker_two';
  const column = 'visual_marker_column_width';
  const initializers = [
    tensorToProto(new Tensor('float32', Float32Array.of(1), [1, 1, 1]), one),
    tensorToProto(new Tensor('int64', BigInt64Array.of(0n), [1]), zero),
    tensorToProto(new Tensor('int64', BigInt64Array.of(2n), [1]), two),
    tensorToProto(new Tensor('int64', BigInt64Array.of(1n), [1]), column),
  ];
  const axis = (i: number) => [{ name: 'axis', type: AttributeType.INT, i }];
  // A [B, n_v, 1] column of ones, concatenated after the projector output.
  const nodes: NodeProto[] = [
    { name: '/visual_marker/Shape', opType: 'Shape', input: [features], output: ['visual_marker_shape'] },
    {
      name: '/visual_marker/Slice',
      opType: 'Slice',
      input: ['visual_marker_shape', zero, two],
      output: ['visual_marker_rows'],
    },
    {
      name: '/visual_marker/Concat_shape',
      opType: 'Concat',
      input: ['visual_marker_rows', column],
      output: ['visual_marker_column_shape'],
      attribute: axis(0),
    },
    {
      name: '/visual_marker/Expand',
      opType: 'Expand',
      input: [one, 'visual_marker_column_shape'],
      output: ['visual_marker_column'],
    },
    {
      name: '/visual_marker/Concat',
      opType: 'Concat',
      input: [features, 'visual_marker_column'],
      output: ['image_features'],
      attribute: axis(-1),
    },
  ];
  graph.node!.push(...nodes);
  graph.initializer!.push(...initializers);
  graph.output = graph.output!.map((o) =>
    o.name === 'image_features'
      ? valueInfo('image_features', 'float32', ['batch', config.imageSeqLength, width])
      : o,
  );
  return model;
}
