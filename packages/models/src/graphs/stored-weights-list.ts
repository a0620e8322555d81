import type { LlavaConfig } from '../config/types.ts';
import { emitDecoderGraph } from './decoder.ts';
import { emitEmbedGraph } from './embed.ts';
import {
  type ExternalWeightRef,
  ExternalWeights,
  type StoredWeight,
  storedDims,
  type WeightQuantization,
} from './stored-weights.ts';
import { emitVisionGraph } from './vision.ts';

/**
 * Every initializer the vision, embedding and decoder graphs of this model use, in first-use order, found
 * by emitting them against shapes only (no weight values are read). Every decoder form (ShortV, pruned,
 * layerwise) uses a subset of the dense decoder's weights.
 */
export function listStoredWeights(
  config: LlavaConfig,
  shapeOf: (name: string) => readonly number[],
  quantization?: WeightQuantization,
): StoredWeight[] {
  const seen = new Map<string, StoredWeight>();
  const recording = new ExternalWeights(
    {
      ref(weight): ExternalWeightRef {
        if (!seen.has(weight.stored)) seen.set(weight.stored, weight);
        const dims = storedDims(weight, shapeOf(weight.source));
        return { location: 'listing', offset: 0, length: 4 * dims.reduce((a, b) => a * b, 1), dims };
      },
    },
    quantization,
  );
  emitVisionGraph(config, recording);
  emitEmbedGraph(config, recording);
  emitDecoderGraph(config, recording, { kind: 'dense' });
  return [...seen.values()];
}
