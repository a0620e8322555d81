import { isShortvError, Tensor } from '@shortv/tensor';
import { describe, expect, it } from 'vitest';
import { type DecoderForm, emitDecoderGraph } from '../src/graphs/decoder.ts';
import { padTextIndex, referenceDecoder, referenceImageFeatures } from '../src/index.ts';
import { CONFIGS, loadTiny, maxAbsDiff, randomPixels } from './helpers.ts';
import { emptyPast, int64, openSession } from './ort.ts';
import { buildScenario, pickRows, type Scenario } from './scenario.ts';

const FROZEN = [0, 2];

function realRows(s: Scenario): number[][] {
  return s.kinds.map((row) => row.flatMap((kind, i) => (kind === 'pad' ? [] : [i])));
}

/** update_mask [L, B, S]: 0 on visual rows of the listed layers, 1 elsewhere. */
function visualMask(s: Scenario, layers: number, frozen: readonly number[]): Tensor<'float32'> {
  const batch = s.kinds.length;
  const data = new Float32Array(layers * batch * s.seq).fill(1);
  for (const l of frozen) {
    s.kinds.forEach((row, b) => {
      row.forEach((kind, i) => {
        if (kind === 'visual') data[(l * batch + b) * s.seq + i] = 0;
      });
    });
  }
  return new Tensor('float32', data, [layers, batch, s.seq]);
}

async function run(
  setup: Awaited<ReturnType<typeof loadTiny>>,
  form: DecoderForm,
  s: Scenario,
  extra: Record<string, Tensor> = {},
): Promise<Record<string, Tensor>> {
  const session = await openSession(
    emitDecoderGraph(setup.config, setup.weights, form, { hiddenStates: true }),
  );
  const out = await session.run({
    inputs_embeds: s.embeds,
    position_ids: int64(s.positionIds),
    attention_mask: int64(s.attentionMask),
    logits_index: int64(s.positionIds.map((row) => row.map((_, i) => i))),
    ...emptyPast(setup.config, s.kinds.length),
    ...extra,
  });
  await session.release();
  return out;
}

function bitsEqual(a: Float32Array, b: Float32Array): boolean {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

describe('masked and ShortV decoder forms', () => {
  for (const options of CONFIGS) {
    it(`${options.label}: masked == dense with all-ones masks; == reference with layer 1's visual updates skipped`, async () => {
      const setup = await loadTiny(options);
      const { config, weights } = setup;
      const L = config.text.numLayers;
      const scene = buildScenario(
        config,
        weights,
        referenceImageFeatures(config, weights, randomPixels(7, 3, config)),
      );
      const rows = realRows(scene);
      const vocab = config.text.vocabSize;
      const pick = (t: Tensor | Float64Array) =>
        pickRows('data' in t ? (t.data as Float32Array) : t, scene.seq, vocab, rows);
      const dense = await run(setup, { kind: 'dense' }, scene);
      const ones = await run(setup, { kind: 'masked' }, scene, { update_mask: visualMask(scene, L, []) });
      const onesDiff = maxAbsDiff(pick(ones.logits!), pick(dense.logits!));
      const skipped = await run(setup, { kind: 'masked' }, scene, { update_mask: visualMask(scene, L, [1]) });
      const reference = referenceDecoder(config, weights, {
        inputsEmbeds: scene.embeds,
        positionIds: scene.positionIds,
        attentionMask: scene.attentionMask,
        updateMask: (l, b, r) => (l === 1 && scene.kinds[b]![r] === 'visual' ? 0 : 1),
      });
      const skipDiff = maxAbsDiff(pick(skipped.logits!), pick(reference.logits));
      const effect = maxAbsDiff(pick(skipped.logits!), pick(dense.logits!));
      console.log(
        `masked ${options.label}: all-ones vs dense ${onesDiff.toExponential(2)}; layer-1 visual skip vs reference ${skipDiff.toExponential(2)} (skip changes logits by ${effect.toExponential(2)})`,
      );
      expect(onesDiff).toBeLessThanOrEqual(1e-5);
      expect(skipDiff).toBeLessThanOrEqual(1e-4);
      expect(effect).toBeGreaterThan(1e-3);
    });

    it(`${options.label}: ShortV with layers ${FROZEN} frozen == masked form with those masks; frozen visual rows bit-identical`, async () => {
      const setup = await loadTiny(options);
      const { config, weights } = setup;
      const L = config.text.numLayers;
      const scene = buildScenario(
        config,
        weights,
        referenceImageFeatures(config, weights, randomPixels(8, 3, config)),
      );
      expect(scene.textIndex[1]).toContain(-1);
      const rows = realRows(scene);
      const vocab = config.text.vocabSize;
      const masked = await run(setup, { kind: 'masked' }, scene, {
        update_mask: visualMask(scene, L, FROZEN),
      });
      const shortv = await run(setup, { kind: 'shortv', frozenLayers: FROZEN }, scene, {
        text_index: int64(scene.textIndex),
      });
      const logitsDiff = maxAbsDiff(
        pickRows(shortv.logits!.data as Float32Array, scene.seq, vocab, rows),
        pickRows(masked.logits!.data as Float32Array, scene.seq, vocab, rows),
      );
      const reference = referenceDecoder(config, weights, {
        inputsEmbeds: scene.embeds,
        positionIds: scene.positionIds,
        attentionMask: scene.attentionMask,
        updateMask: (l, b, r) => (FROZEN.includes(l) && scene.kinds[b]![r] === 'visual' ? 0 : 1),
      });
      const referenceDiff = maxAbsDiff(
        pickRows(shortv.logits!.data as Float32Array, scene.seq, vocab, rows),
        pickRows(reference.logits, scene.seq, vocab, rows),
      );
      // Padding rows differ (the masked form updates them, ShortV leaves them), but no query sees them.
      let cacheDiff = 0;
      const hd = config.text.headDim;
      for (let l = 0; l < L; l++) {
        for (const part of ['key', 'value']) {
          const name = `present.${l}.${part}`;
          const a = shortv[name]!.data as Float32Array;
          const b = masked[name]!.data as Float32Array;
          for (let i = 0; i < a.length; i += hd) {
            const batch = Math.floor(i / (config.text.numKvHeads * scene.seq * hd));
            const row = Math.floor(i / hd) % scene.seq;
            if (scene.kinds[batch]![row] === 'pad') continue;
            cacheDiff = Math.max(cacheDiff, maxAbsDiff(a.subarray(i, i + hd), b.subarray(i, i + hd)));
          }
        }
      }
      const d = config.text.hiddenSize;
      let frozenRowsChecked = 0;
      for (const l of FROZEN) {
        const before = shortv[`hidden_states.${l}`]!.data as Float32Array;
        const after = shortv[`hidden_states.${l + 1}`]!.data as Float32Array;
        scene.kinds.forEach((row, b) => {
          row.forEach((kind, i) => {
            const o = (b * scene.seq + i) * d;
            const same = bitsEqual(before.subarray(o, o + d), after.subarray(o, o + d));
            if (kind === 'text') expect(same).toBe(false);
            else {
              expect(same).toBe(true);
              frozenRowsChecked++;
            }
          });
        });
      }
      console.log(
        `shortv ${options.label}: logits vs masked ${logitsDiff.toExponential(2)} (vs masked TS reference ${referenceDiff.toExponential(2)}), KV cache vs masked ${cacheDiff.toExponential(2)}, ${frozenRowsChecked} frozen visual/pad rows bit-identical`,
      );
      expect(logitsDiff).toBeLessThanOrEqual(1e-4);
      expect(referenceDiff).toBeLessThanOrEqual(1e-4);
      expect(cacheDiff).toBeLessThanOrEqual(1e-4);
      expect(frozenRowsChecked).toBeGreaterThan(0);
    });
  }

  it('ShortV batch rows equal each prompt run alone (the -1 text_index padding leaks nothing)', async () => {
    const setup = await loadTiny(CONFIGS[3]!);
    const { config, weights } = setup;
    const scene = buildScenario(
      config,
      weights,
      referenceImageFeatures(config, weights, randomPixels(9, 3, config)),
    );
    const form: DecoderForm = { kind: 'shortv', frozenLayers: [1, 2] };
    const batch = await run(setup, form, scene, { text_index: int64(scene.textIndex) });
    const vocab = config.text.vocabSize;
    const d = config.text.hiddenSize;
    for (let b = 0; b < 2; b++) {
      const pad = scene.kinds[b]!.filter((k) => k === 'pad').length;
      const n = scene.seq - pad;
      const alone: Scenario = {
        ...scene,
        seq: n,
        embeds: new Tensor(
          'float32',
          scene.embeds.data.slice((b * scene.seq + pad) * d, (b + 1) * scene.seq * d),
          [1, n, d],
        ),
        positionIds: [scene.positionIds[b]!.slice(pad)],
        attentionMask: [scene.attentionMask[b]!.slice(pad)],
        kinds: [scene.kinds[b]!.slice(pad)],
        textRows: [scene.textRows[b]!.map((r) => r - pad)],
        textIndex: [scene.textRows[b]!.map((r) => r - pad)],
      };
      const single = await run(setup, form, alone, { text_index: int64(alone.textIndex) });
      const fromBatch = (batch.logits!.data as Float32Array).slice(
        (b * scene.seq + pad) * vocab,
        (b + 1) * scene.seq * vocab,
      );
      const diff = maxAbsDiff(fromBatch, single.logits!.data as Float32Array);
      console.log(`shortv batch vs alone, prompt ${b}: logits max abs diff ${diff.toExponential(2)}`);
      expect(diff).toBeLessThanOrEqual(1e-5);
    }
  });

  it('refuses frozen layers outside the model', async () => {
    const { config, weights } = await loadTiny(CONFIGS[0]!);
    let caught: unknown;
    try {
      emitDecoderGraph(config, weights, { kind: 'shortv', frozenLayers: [0, 3] });
    } catch (error) {
      caught = error;
    }
    expect(isShortvError(caught) && caught.code).toBe('E_MODEL_LAYERS');
    expect((caught as Error).message).toContain('[0, 3)');
  });

  it('pads text_index with -1 and refuses rows that are not ascending or out of range', () => {
    expect(padTextIndex([[0, 3, 4], [2]], 6)).toEqual([
      [0, 3, 4],
      [2, -1, -1],
    ]);
    for (const bad of [[[3, 1]], [[0, 6]], [[-1]]]) {
      let caught: unknown;
      try {
        padTextIndex(bad, 6);
      } catch (error) {
        caught = error;
      }
      expect(isShortvError(caught) && caught.code).toBe('E_MODEL_INPUT');
    }
  });
});
