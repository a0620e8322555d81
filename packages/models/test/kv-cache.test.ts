import { Tensor } from '@shortv/tensor';
import { describe, expect, it } from 'vitest';
import { type DecoderForm, emitDecoderGraph } from '../src/graphs/decoder.ts';
import { type LlavaConfig, padTextIndex, referenceEmbed, referenceImageFeatures } from '../src/index.ts';
import { CONFIGS, loadTiny, maxAbsDiff, randomPixels } from './helpers.ts';
import { emptyPast, int64, openSession, presentsAsPast } from './ort.ts';
import { buildScenario, type Scenario } from './scenario.ts';

const STEPS = 5;
const NEW_TOKENS = [
  [11, 12, 13, 14, 15],
  [21, 22, 23, 24, 25],
];

/** The scenario with STEPS more text tokens appended to each prompt. */
function extend(config: LlavaConfig, weights: Map<string, Tensor<'float32'>>, s: Scenario): Scenario {
  const d = config.text.hiddenSize;
  const seq = s.seq + STEPS;
  const embeds = new Float32Array(2 * seq * d);
  for (let b = 0; b < 2; b++) {
    embeds.set(s.embeds.data.subarray(b * s.seq * d, (b + 1) * s.seq * d), b * seq * d);
    embeds.set(referenceEmbed(config, weights, NEW_TOKENS[b]!), (b * seq + s.seq) * d);
  }
  const last = (b: number) => s.positionIds[b]![s.seq - 1]!;
  return {
    seq,
    embeds: new Tensor('float32', embeds, [2, seq, d]),
    positionIds: s.positionIds.map((row, b) => [...row, ...NEW_TOKENS[b]!.map((_, i) => last(b) + 1 + i)]),
    attentionMask: s.attentionMask.map((row) => [...row, ...new Array<number>(STEPS).fill(1)]),
    kinds: s.kinds.map((row) => [...row, ...new Array<'text'>(STEPS).fill('text')]),
    textRows: s.textRows.map((rows) => [...rows, ...NEW_TOKENS[0]!.map((_, i) => s.seq + i)]),
    textIndex: [],
  };
}

describe('KV cache: prefill + 5 decode steps == one full forward', () => {
  const forms: [string, DecoderForm][] = [
    ['dense', { kind: 'dense' }],
    ['shortv', { kind: 'shortv', frozenLayers: [1, 2] }],
  ];
  for (const options of [CONFIGS[0]!, CONFIGS[3]!]) {
    for (const [label, form] of forms) {
      it(`${options.label}, ${label}`, async () => {
        const { config, weights } = await loadTiny(options);
        const prompt = buildScenario(
          config,
          weights,
          referenceImageFeatures(config, weights, randomPixels(12, 3, config)),
        );
        const full = extend(config, weights, prompt);
        const d = config.text.hiddenSize;
        const vocab = config.text.vocabSize;
        const shortv = form.kind === 'shortv';
        const session = await openSession(emitDecoderGraph(config, weights, form));
        // Logits at the last prompt row and at each new row, from one forward over everything.
        const wanted = [prompt.seq - 1, ...NEW_TOKENS[0]!.map((_, i) => prompt.seq + i)];
        const whole = await session.run({
          inputs_embeds: full.embeds,
          position_ids: int64(full.positionIds),
          attention_mask: int64(full.attentionMask),
          logits_index: int64([wanted, wanted]),
          ...emptyPast(config, 2),
          ...(shortv ? { text_index: int64(padTextIndex(full.textRows, full.seq)) } : {}),
        });
        const expected = (b: number, k: number) =>
          (whole.logits!.data as Float32Array).subarray(
            (b * wanted.length + k) * vocab,
            (b * wanted.length + k + 1) * vocab,
          );

        let out = await session.run({
          inputs_embeds: prompt.embeds,
          position_ids: int64(prompt.positionIds),
          attention_mask: int64(prompt.attentionMask),
          logits_index: int64([[prompt.seq - 1], [prompt.seq - 1]]),
          ...emptyPast(config, 2),
          ...(shortv ? { text_index: int64(prompt.textIndex) } : {}),
        });
        let worst = 0;
        for (let b = 0; b < 2; b++) {
          worst = Math.max(
            worst,
            maxAbsDiff(
              (out.logits!.data as Float32Array).subarray(b * vocab, (b + 1) * vocab),
              expected(b, 0),
            ),
          );
        }
        for (let step = 0; step < STEPS; step++) {
          const row = prompt.seq + step;
          const embeds = new Float32Array(2 * d);
          for (let b = 0; b < 2; b++)
            embeds.set(
              full.embeds.data.subarray((b * full.seq + row) * d, (b * full.seq + row + 1) * d),
              b * d,
            );
          out = await session.run({
            inputs_embeds: new Tensor('float32', embeds, [2, 1, d]),
            position_ids: int64(full.positionIds.map((p) => [p[row]!])),
            attention_mask: int64(full.attentionMask.map((m) => m.slice(0, row + 1))),
            logits_index: int64([[0], [0]]),
            ...presentsAsPast(config, out),
            // A decode step is all text: its one row is the only text row.
            ...(shortv ? { text_index: int64([[0], [0]]) } : {}),
          });
          expect(out['present.0.key']!.dims[2]).toBe(row + 1);
          for (let b = 0; b < 2; b++) {
            worst = Math.max(
              worst,
              maxAbsDiff(
                (out.logits!.data as Float32Array).subarray(b * vocab, (b + 1) * vocab),
                expected(b, step + 1),
              ),
            );
          }
        }
        await session.release();
        console.log(
          `kv-cache ${options.label} ${label}: prefill + ${STEPS} steps vs full forward, logits max abs diff ${worst.toExponential(2)}`,
        );
        expect(worst).toBeLessThanOrEqual(1e-4);
      });
    }
  }
});
