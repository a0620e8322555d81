import { describe, expect, it } from 'vitest';
import { emitDecoderGraph, referenceImageFeatures } from '../src/index.ts';
import { CONFIGS, loadTiny, maxAbsDiff, randomPixels } from './helpers.ts';
import { emptyPast, int64, openSession } from './ort.ts';
import { buildScenario } from './scenario.ts';

describe('fused operators', () => {
  it('SimplifiedLayerNormalization RMSNorm == the plain-op RMSNorm (dense and ShortV, node and wasm)', async () => {
    const { config, weights } = await loadTiny(CONFIGS[2]!);
    const scene = buildScenario(
      config,
      weights,
      referenceImageFeatures(config, weights, randomPixels(16, 3, config)),
    );
    const feeds = {
      inputs_embeds: scene.embeds,
      position_ids: int64(scene.positionIds),
      attention_mask: int64(scene.attentionMask),
      logits_index: int64(scene.textRows.map((rows) => rows.slice(-3))),
      text_index: int64(scene.textIndex),
      ...emptyPast(config, 2),
    };
    const form = { kind: 'shortv', frozenLayers: [0, 2] } as const;
    const plainModel = emitDecoderGraph(config, weights, form);
    const fusedModel = emitDecoderGraph(config, weights, form, { fusedRmsNorm: true });
    expect(fusedModel.graph!.node!.filter((n) => n.opType === 'SimplifiedLayerNormalization').length).toBe(
      2 * config.text.numLayers + 2 + 1,
    );
    for (const backend of ['node', 'wasm'] as const) {
      const plain = await openSession(plainModel, backend);
      const fused = await openSession(fusedModel, backend);
      const a = (await plain.run(feeds)).logits!.data as Float32Array;
      const b = (await fused.run(feeds)).logits!.data as Float32Array;
      await plain.release();
      await fused.release();
      const diff = maxAbsDiff(a, b);
      console.log(`fused RMSNorm (${backend}): logits max abs diff vs plain ${diff.toExponential(2)}`);
      expect(diff).toBeLessThanOrEqual(1e-5);
    }
  });
});
