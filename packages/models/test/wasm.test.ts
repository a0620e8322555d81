import type { Tensor } from '@shortv/tensor';
import { describe, expect, it } from 'vitest';
import { emitDecoderGraph } from '../src/graphs/decoder.ts';
import { emitVisionGraph } from '../src/graphs/vision.ts';
import { referenceDecoder, referenceImageFeatures } from '../src/index.ts';
import { CONFIGS, loadTiny, maxAbsDiff, randomPixels } from './helpers.ts';
import { emptyPast, int64, openSession } from './ort.ts';
import { buildScenario, pickRows } from './scenario.ts';

describe('onnxruntime-web (wasm backend, inside Node)', () => {
  it('runs the vision, dense and ShortV graphs with the same results as the reference', async () => {
    const { config, weights } = await loadTiny(CONFIGS[3]!);
    const pixels = randomPixels(15, 3, config);
    const vision = await openSession(emitVisionGraph(config, weights), 'wasm');
    const features = (await vision.run({ pixel_values: pixels })).image_features as Tensor<'float32'>;
    await vision.release();
    const refFeatures = referenceImageFeatures(config, weights, pixels);
    const featureDiff = maxAbsDiff(features.data, refFeatures.data);

    const scene = buildScenario(config, weights, features);
    const frozen = [0, 2];
    const reference = referenceDecoder(config, weights, {
      inputsEmbeds: scene.embeds,
      positionIds: scene.positionIds,
      attentionMask: scene.attentionMask,
    });
    const masked = referenceDecoder(config, weights, {
      inputsEmbeds: scene.embeds,
      positionIds: scene.positionIds,
      attentionMask: scene.attentionMask,
      updateMask: (l, b, r) => (frozen.includes(l) && scene.kinds[b]![r] === 'visual' ? 0 : 1),
    });
    const rows = scene.kinds.map((row) => row.flatMap((k, i) => (k === 'pad' ? [] : [i])));
    const feeds = {
      inputs_embeds: scene.embeds,
      position_ids: int64(scene.positionIds),
      attention_mask: int64(scene.attentionMask),
      logits_index: int64(scene.positionIds.map((row) => row.map((_, i) => i))),
      ...emptyPast(config, 2),
    };
    const vocab = config.text.vocabSize;
    const dense = await openSession(emitDecoderGraph(config, weights, { kind: 'dense' }), 'wasm');
    const denseLogits = (await dense.run(feeds)).logits!.data as Float32Array;
    await dense.release();
    const shortv = await openSession(
      emitDecoderGraph(config, weights, { kind: 'shortv', frozenLayers: frozen }),
      'wasm',
    );
    const shortvLogits = (await shortv.run({ ...feeds, text_index: int64(scene.textIndex) })).logits!
      .data as Float32Array;
    await shortv.release();
    const denseDiff = maxAbsDiff(
      pickRows(denseLogits, scene.seq, vocab, rows),
      pickRows(reference.logits, scene.seq, vocab, rows),
    );
    const shortvDiff = maxAbsDiff(
      pickRows(shortvLogits, scene.seq, vocab, rows),
      pickRows(masked.logits, scene.seq, vocab, rows),
    );
    console.log(
      `wasm: image features vs reference ${featureDiff.toExponential(2)}, dense logits vs reference ${denseDiff.toExponential(2)}, shortv logits vs masked reference ${shortvDiff.toExponential(2)}`,
    );
    expect(featureDiff).toBeLessThanOrEqual(1e-4);
    expect(denseDiff).toBeLessThanOrEqual(1e-4);
    expect(shortvDiff).toBeLessThanOrEqual(1e-4);
  });
});
