import { Tensor } from '@shortv/tensor';
import { describe, expect, it } from 'vitest';
import {
  emitDecoderGraph,
  emitDecoderLayerGraph,
  emitHeadGraph,
  type LayerGraphForm,
} from '../src/graphs/decoder.ts';
import { referenceImageFeatures } from '../src/index.ts';
import { CONFIGS, loadTiny, maxAbsDiff, randomPixels } from './helpers.ts';
import { emptyPast, int64, openSession } from './ort.ts';
import { buildScenario } from './scenario.ts';

describe('layer-by-layer graphs', () => {
  for (const options of [CONFIGS[1]!, CONFIGS[2]!]) {
    it(`${options.label}: chained per-layer graphs + head == the full decoder, in ShortV and masked forms`, async () => {
      const { config, weights } = await loadTiny(options);
      const scene = buildScenario(
        config,
        weights,
        referenceImageFeatures(config, weights, randomPixels(13, 3, config)),
      );
      const L = config.text.numLayers;
      const frozen = new Set([0, 2]);
      const allRows = int64(scene.positionIds.map((row) => row.map((_, i) => i)));
      const common = {
        position_ids: int64(scene.positionIds),
        attention_mask: int64(scene.attentionMask),
      };
      const visualMask = new Tensor(
        'float32',
        Float32Array.from(scene.kinds.flat().map((k) => (k === 'visual' ? 0 : 1))),
        [2, scene.seq],
      );
      const head = await openSession(emitHeadGraph(config, weights));
      for (const variant of ['shortv', 'masked'] as const) {
        let hidden: Tensor = scene.embeds;
        for (let l = 0; l < L; l++) {
          const form: LayerGraphForm = frozen.has(l) ? (variant === 'shortv' ? 'frozen' : 'masked') : 'dense';
          const session = await openSession(emitDecoderLayerGraph(config, weights, l, form));
          const out = await session.run({
            hidden_states: hidden,
            ...common,
            ...emptyPast(config, 2, [l]),
            ...(form === 'frozen' ? { text_index: int64(scene.textIndex) } : {}),
            ...(form === 'masked' ? { update_mask: visualMask } : {}),
          });
          await session.release();
          expect(out[`present.${l}.key`]!.dims).toEqual([
            2,
            config.text.numKvHeads,
            scene.seq,
            config.text.headDim,
          ]);
          hidden = out.hidden_states_out!;
        }
        const chained = await head.run({ hidden_states: hidden, logits_index: allRows });
        const fullSession = await openSession(
          emitDecoderGraph(
            config,
            weights,
            variant === 'shortv' ? { kind: 'shortv', frozenLayers: [...frozen] } : { kind: 'masked' },
          ),
        );
        const layerMasks = new Float32Array(L * 2 * scene.seq).fill(1);
        for (const l of frozen) layerMasks.set(visualMask.data as Float32Array, l * 2 * scene.seq);
        const full = await fullSession.run({
          inputs_embeds: scene.embeds,
          ...common,
          logits_index: allRows,
          ...emptyPast(config, 2),
          ...(variant === 'shortv'
            ? { text_index: int64(scene.textIndex) }
            : { update_mask: new Tensor('float32', layerMasks, [L, 2, scene.seq]) }),
        });
        await fullSession.release();
        const diff = maxAbsDiff(chained.logits!.data as Float32Array, full.logits!.data as Float32Array);
        console.log(
          `layerwise ${options.label} ${variant}: chained vs full decoder logits max abs diff ${diff.toExponential(2)}`,
        );
        expect(diff).toBeLessThanOrEqual(1e-5);
      }
      await head.release();
    });
  }
});
