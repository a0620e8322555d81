import { runModel } from '@shortv/onnx/testing';
import { Tensor } from '@shortv/tensor';
import { describe, expect, it } from 'vitest';
import { emitEmbedGraph } from '../src/graphs/embed.ts';
import { emitVisionGraph } from '../src/graphs/vision.ts';
import { referenceEmbed, referenceImageFeatures } from '../src/index.ts';
import { loadTiny, maxAbsDiff, randomPixels } from './helpers.ts';

describe('vision graph', () => {
  for (const vision of ['clip', 'siglip'] as const) {
    it(`${vision}: matches the reference image features`, async () => {
      const { config, weights } = await loadTiny({
        seed: 21,
        vision,
        text: vision === 'clip' ? 'llama' : 'qwen2',
      });
      const pixels = randomPixels(4, 2, config);
      const out = await runModel('node', emitVisionGraph(config, weights), { pixel_values: pixels });
      const expected = referenceImageFeatures(config, weights, pixels);
      const features = out.image_features!;
      expect(features.dims).toEqual(expected.dims);
      const diff = maxAbsDiff(features.data as Float32Array, expected.data);
      console.log(`vision ${vision}: image_features max abs diff vs reference ${diff.toExponential(2)}`);
      expect(diff).toBeLessThanOrEqual(1e-4);
    });
  }

  it('clip with two feature layers concatenated and the `full` strategy: n_v includes the class token', async () => {
    const { config, weights } = await loadTiny({
      seed: 23,
      visionConfig: { num_hidden_layers: 3 },
      llavaConfig: { vision_feature_layer: [-3, -1], vision_feature_select_strategy: 'full' },
    });
    expect(config.imageSeqLength).toBe(17);
    expect(config.projectorInputSize).toBe(64);
    const pixels = randomPixels(6, 1, config);
    const out = await runModel('node', emitVisionGraph(config, weights), { pixel_values: pixels });
    const expected = referenceImageFeatures(config, weights, pixels);
    expect(out.image_features!.dims).toEqual([1, 17, 32]);
    const diff = maxAbsDiff(out.image_features!.data as Float32Array, expected.data);
    console.log(
      `vision clip layers [-3,-1] full: image_features max abs diff vs reference ${diff.toExponential(2)}`,
    );
    expect(diff).toBeLessThanOrEqual(1e-4);
  });

  it('embed graph gathers token rows', async () => {
    const { config, weights } = await loadTiny({ seed: 22 });
    const ids = [3, 0, 63, 17];
    const out = await runModel('node', emitEmbedGraph(config, weights), {
      input_ids: new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, 4]),
    });
    expect(out.inputs_embeds!.dims).toEqual([1, 4, 32]);
    expect(maxAbsDiff(out.inputs_embeds!.data as Float32Array, referenceEmbed(config, weights, ids))).toBe(0);
  });
});
