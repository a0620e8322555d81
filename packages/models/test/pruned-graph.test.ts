import type { OrtBackend } from '@shortv/onnx/testing';
import { Tensor } from '@shortv/tensor';
import { describe, expect, it } from 'vitest';
import { emitDecoderGraph } from '../src/graphs/decoder.ts';
import type { PrunedDecoderForm } from '../src/index.ts';
import { referenceDecoder, referencePrunedDecoder } from '../src/index.ts';
import { CONFIGS, type LoadedTiny, loadTiny, maxAbsDiff, randomEmbeds } from './helpers.ts';
import { emptyPast, int64, openSession, presentsAsPast } from './ort.ts';

// Text, 9 visual rows, text: the image sits mid-prompt as in a chat template.
const VISUAL = [false, false, ...new Array<boolean>(9).fill(true), false, false, false];
const SEQ = VISUAL.length;
const KEEP_COUNT = 5;
const rowsWhere = (flags: readonly boolean[], want: boolean) =>
  flags.flatMap((f, i) => (f === want ? [i] : []));

interface Case {
  readonly label: string;
  readonly form: PrunedDecoderForm;
}

const CASES: readonly Case[] = [
  {
    label: 'FastV K=1',
    form: { kind: 'pruned', frozenLayers: [], prune: { afterLayer: 0, keep: 0.5 }, withdraw: null },
  },
  { label: 'VTW K=2', form: { kind: 'pruned', frozenLayers: [], prune: null, withdraw: { fromLayer: 2 } } },
  { label: 'VTW K=0', form: { kind: 'pruned', frozenLayers: [], prune: null, withdraw: { fromLayer: 0 } } },
  {
    label: 'ShortV + FastV (ranking in a frozen layer)',
    form: { kind: 'pruned', frozenLayers: [1, 3], prune: { afterLayer: 1, keep: 0.5 }, withdraw: null },
  },
  {
    label: 'FastV + VTW + frozen',
    form: {
      kind: 'pruned',
      frozenLayers: [0, 2],
      prune: { afterLayer: 0, keep: 0.5 },
      withdraw: { fromLayer: 3 },
    },
  },
];

async function check(tiny: LoadedTiny, c: Case, backend: OrtBackend, seed: number) {
  const { config, weights } = tiny;
  const d = config.text.hiddenSize;
  const embeds = randomEmbeds(seed, 1, SEQ, d);
  const positions = Array.from({ length: SEQ }, (_, i) => i);
  const session = await openSession(emitDecoderGraph(config, weights, c.form), backend);
  const prefill = await session.run({
    inputs_embeds: embeds,
    position_ids: int64([positions]),
    attention_mask: int64([positions.map(() => 1)]),
    logits_index: int64([[SEQ - 1]]),
    text_index: int64([rowsWhere(VISUAL, false)]),
    visual_index: int64([rowsWhere(VISUAL, true)]),
    ...(c.form.prune ? { visual_keep: new Tensor('int64', BigInt64Array.of(BigInt(KEEP_COUNT)), [1]) } : {}),
    ...emptyPast(config, 1),
  });
  const prune = c.form.prune ? { afterLayer: c.form.prune.afterLayer, keepCount: KEEP_COUNT } : null;
  const reference = referencePrunedDecoder(config, weights, {
    inputsEmbeds: embeds,
    positionIds: positions,
    visual: VISUAL,
    frozenLayers: c.form.frozenLayers,
    prune,
    withdraw: c.form.withdraw,
  });
  const kept = [...(prefill.kept_rows!.data as BigInt64Array)].map(Number);
  expect(kept).toEqual(reference.keptRows);
  const prefillDiff = maxAbsDiff(prefill.logits!.data as Float32Array, reference.lastLogits);
  expect(prefillDiff).toBeLessThanOrEqual(1e-4);

  // One decode step on the shortened cache against a full pass that replays the same choice.
  const next = randomEmbeds(seed + 1, 1, 1, d);
  const step = await session.run({
    inputs_embeds: next,
    position_ids: int64([[SEQ]]),
    attention_mask: int64([[...positions.map(() => 1), 1]]),
    logits_index: int64([[0]]),
    text_index: int64([[0]]),
    visual_index: new Tensor('int64', new BigInt64Array(0), [1, 0]),
    ...(c.form.prune ? { visual_keep: new Tensor('int64', BigInt64Array.of(0n), [1]) } : {}),
    ...presentsAsPast(config, prefill),
  });
  await session.release();
  const longer = new Float32Array((SEQ + 1) * d);
  longer.set(embeds.data);
  longer.set(next.data, SEQ * d);
  const replay = referencePrunedDecoder(config, weights, {
    inputsEmbeds: new Tensor('float32', longer, [1, SEQ + 1, d]),
    positionIds: [...positions, SEQ],
    visual: [...VISUAL, false],
    frozenLayers: c.form.frozenLayers,
    prune: prune && { ...prune, keptVisualRows: reference.keptRows.filter((r) => VISUAL[r]) },
    withdraw: c.form.withdraw,
  });
  const decodeDiff = maxAbsDiff(step.logits!.data as Float32Array, replay.lastLogits);
  expect(decodeDiff).toBeLessThanOrEqual(1e-4);
  const shortLayer = c.form.prune ? c.form.prune.afterLayer + 1 : c.form.withdraw!.fromLayer;
  const expectedCache = c.form.withdraw && !c.form.prune ? rowsWhere(VISUAL, false).length : kept.length;
  expect(step[`present.${shortLayer}.key`]!.dims[2]).toBe(expectedCache + 1);
  expect(step['present.0.key']!.dims[2]).toBe(shortLayer === 0 ? expectedCache + 1 : SEQ + 1);
  return { kept, prefillDiff, decodeDiff };
}

describe('pruned decoder (FastV / VTW) against the pruned reference forward', () => {
  for (const options of CONFIGS) {
    it(`${options.label}: kept rows equal, logits within 1e-4 (prefill and one decode step)`, async () => {
      const tiny = await loadTiny({ ...options, numLayers: 4 });
      for (const [i, c] of CASES.entries()) {
        const r = await check(tiny, c, 'node', 500 + i);
        console.log(
          `${options.label} ${c.label}: kept ${r.kept.join(',')} prefill ${r.prefillDiff.toExponential(2)} decode ${r.decodeDiff.toExponential(2)}`,
        );
      }
    });
  }

  it('runs on onnxruntime-web (wasm) with the same kept rows and logits', async () => {
    const tiny = await loadTiny({ ...CONFIGS[3]!, numLayers: 4 });
    for (const [i, c] of CASES.entries()) await check(tiny, c, 'wasm', 700 + i);
  });

  it('keeping every visual row is the plain forward; keeping fewer changes the logits', async () => {
    const tiny = await loadTiny({ ...CONFIGS[0]!, numLayers: 4 });
    const { config, weights } = tiny;
    const embeds = randomEmbeds(9, 1, SEQ, config.text.hiddenSize);
    const positionIds = Array.from({ length: SEQ }, (_, i) => i);
    const run = (keepCount: number) =>
      referencePrunedDecoder(config, weights, {
        inputsEmbeds: embeds,
        positionIds,
        visual: VISUAL,
        prune: { afterLayer: 0, keepCount },
      });
    const plain = referenceDecoder(config, weights, { inputsEmbeds: embeds, positionIds: [positionIds] });
    const vocab = config.text.vocabSize;
    const plainLast = plain.logits.slice((SEQ - 1) * vocab, SEQ * vocab);
    expect(run(9).keptRows).toHaveLength(SEQ);
    expect(maxAbsDiff(run(9).lastLogits, plainLast)).toBeLessThan(1e-9);
    expect(run(2).keptRows).toHaveLength(SEQ - 7);
    expect(maxAbsDiff(run(2).lastLogits, plainLast)).toBeGreaterThan(1e-6);
  });

  it('refuses a withdrawal that would make the pruning moot', async () => {
    const tiny = await loadTiny({ ...CONFIGS[0]!, numLayers: 4 });
    expect(() =>
      emitDecoderGraph(tiny.config, tiny.weights, {
        kind: 'pruned',
        frozenLayers: [],
        prune: { afterLayer: 1, keep: 0.5 },
        withdraw: { fromLayer: 2 },
      }),
    ).toThrow(/prune.afterLayer 1 must come before/);
  });
});
