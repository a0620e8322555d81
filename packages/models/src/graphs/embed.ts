import { GraphBuilder, type ModelProto } from '@shortv/onnx';
import type { LlavaConfig } from '../config/types.ts';
import type { WeightMap } from '../reference/math.ts';
import { emitContext, plainWeight } from './common.ts';

/**
 * Token embeddings as a graph: `input_ids` [B, S] int64 -> `inputs_embeds` [B, S, d]. A graph rather than a
 * TypeScript gather so the table (vocab x d, ~0.5 GB for a 7B model) lives once, inside ONNX Runtime (and on
 * its device), not a second time in JS memory; the runtime then overwrites the `<image>` rows with image
 * features and feeds the decoder `inputs_embeds`, which is why the decoder does not embed tokens itself.
 */
export function emitEmbedGraph(config: LlavaConfig, weights: WeightMap): ModelProto {
  const g = new GraphBuilder('llava_embed_tokens');
  const ctx = emitContext(g, config, weights);
  const ids = g.input('input_ids', 'int64', ['batch', 'seq']);
  const rows = g.scope('/model/embed_tokens', () =>
    g.op.Gather(plainWeight(ctx, 'text.embed_tokens.weight'), ids, { axis: 0 }),
  );
  g.output('inputs_embeds', 'float32', ['batch', 'seq', config.text.hiddenSize], { from: rows });
  return g.toModel({ docString: 'LLaVA token embeddings: input_ids -> inputs_embeds' });
}
