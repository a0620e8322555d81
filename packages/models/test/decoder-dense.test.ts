import { runModel } from '@shortv/onnx/testing';
import type { Tensor } from '@shortv/tensor';
import { describe, expect, it } from 'vitest';
import { emitDecoderGraph } from '../src/graphs/decoder.ts';
import { emitVisionGraph } from '../src/graphs/vision.ts';
import { type LlavaConfig, referenceDecoder, referenceImageFeatures, type WeightMap } from '../src/index.ts';
import type { TinyLlavaOptions } from '../src/testing/index.ts';
import { CONFIGS, loadTiny, maxAbsDiff, randomPixels } from './helpers.ts';
import { emptyPast, int64, openSession } from './ort.ts';
import { buildScenario, pickRows, type Scenario } from './scenario.ts';

function realRows(s: Scenario): number[][] {
  return s.kinds.map((row) => row.flatMap((kind, i) => (kind === 'pad' ? [] : [i])));
}

async function denseLogits(config: LlavaConfig, weights: WeightMap, s: Scenario): Promise<Tensor> {
  const all = s.positionIds.map((row) => row.map((_, i) => i));
  const session = await openSession(emitDecoderGraph(config, weights, { kind: 'dense' }));
  const out = await session.run({
    inputs_embeds: s.embeds,
    position_ids: int64(s.positionIds),
    attention_mask: int64(s.attentionMask),
    logits_index: int64(all),
    ...emptyPast(config, 2),
  });
  await session.release();
  return out.logits!;
}

describe('dense decoder graph vs TS reference (pixels -> logits)', () => {
  for (const options of CONFIGS) {
    it(`${options.label}: two prompts (1 and 2 image spans), left padded`, async () => {
      const { config, weights } = await loadTiny(options);
      const pixels = randomPixels(options.seed!, 3, config);
      const refFeatures = referenceImageFeatures(config, weights, pixels);
      const graphFeatures = (
        await runModel('node', emitVisionGraph(config, weights), { pixel_values: pixels })
      ).image_features as Tensor<'float32'>;
      const refScene = buildScenario(config, weights, refFeatures);
      const graphScene = buildScenario(config, weights, graphFeatures);
      const reference = referenceDecoder(config, weights, {
        inputsEmbeds: refScene.embeds,
        positionIds: refScene.positionIds,
        attentionMask: refScene.attentionMask,
      });
      const logits = await denseLogits(config, weights, graphScene);
      const vocab = config.text.vocabSize;
      const rows = realRows(refScene);
      const diff = maxAbsDiff(
        pickRows(logits.data as Float32Array, refScene.seq, vocab, rows),
        pickRows(reference.logits, refScene.seq, vocab, rows),
      );
      console.log(
        `dense ${options.label}: logits max abs diff vs reference ${diff.toExponential(2)} over ${rows.flat().length} rows`,
      );
      expect(diff).toBeLessThanOrEqual(1e-4);
    });
  }

  const variants: [string, TinyLlavaOptions][] = [
    ['linear RoPE scaling', { seed: 111, textConfig: { rope_scaling: { type: 'linear', factor: 2 } } }],
    [
      'dynamic RoPE scaling past max positions',
      {
        seed: 112,
        numKvHeads: 2,
        textConfig: { max_position_embeddings: 16, rope_scaling: { type: 'dynamic', factor: 2 } },
      },
    ],
    [
      'mistral with a 7-row sliding window',
      { seed: 113, text: 'mistral', numKvHeads: 2, textConfig: { sliding_window: 7 } },
    ],
    [
      'qwen2 with sliding window from layer 1, tied embeddings',
      {
        seed: 114,
        text: 'qwen2',
        vision: 'siglip',
        tieWordEmbeddings: true,
        textConfig: { use_sliding_window: true, sliding_window: 9, max_window_layers: 1 },
      },
    ],
  ];
  for (const [label, options] of variants) {
    it(`${label}: matches the reference`, async () => {
      const { config, weights } = await loadTiny(options);
      const features = referenceImageFeatures(config, weights, randomPixels(5, 3, config));
      const scene = buildScenario(config, weights, features);
      const reference = referenceDecoder(config, weights, {
        inputsEmbeds: scene.embeds,
        positionIds: scene.positionIds,
        attentionMask: scene.attentionMask,
      });
      const logits = await denseLogits(config, weights, scene);
      const rows = realRows(scene);
      const vocab = config.text.vocabSize;
      const diff = maxAbsDiff(
        pickRows(logits.data as Float32Array, scene.seq, vocab, rows),
        pickRows(reference.logits, scene.seq, vocab, rows),
      );
      console.log(`dense ${label}: logits max abs diff vs reference ${diff.toExponential(2)}`);
      expect(diff).toBeLessThanOrEqual(1e-4);
      // The variant must matter here, or the comparison above proves nothing about it.
      const plain = {
        ...config,
        text: {
          ...config.text,
          ropeScaling: null,
          slidingWindows: config.text.slidingWindows.map(() => null),
        },
      };
      const without = referenceDecoder(plain, weights, {
        inputsEmbeds: scene.embeds,
        positionIds: scene.positionIds,
        attentionMask: scene.attentionMask,
      });
      expect(
        maxAbsDiff(
          pickRows(without.logits, scene.seq, vocab, rows),
          pickRows(reference.logits, scene.seq, vocab, rows),
        ),
      ).toBeGreaterThan(1e-3);
    });
  }
});
