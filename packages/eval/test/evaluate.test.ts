import { VlmEngine } from '@shortv/runtime-core';
import { nodeTestPlatform, tinyFreezePlan } from '@shortv/runtime-core/testing';
import { normalizeAnswer } from '@shortv/shapes';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  compareRuns,
  type EvalRun,
  type EvalSample,
  evaluate,
  renderHtmlReport,
  reportEvalSection,
} from '../src/index.ts';
import { tinyGqaFolder, tinySamples } from './helpers/tiny-model.ts';

const SAMPLES = tinySamples(12);
let dense: VlmEngine;
let planned: VlmEngine;
let denseRun: EvalRun;

beforeAll(async () => {
  const platform = await nodeTestPlatform();
  dense = await VlmEngine.load(tinyGqaFolder(), { platform });
  planned = await VlmEngine.load(tinyGqaFolder(), { platform });
  await planned.setPlan(tinyFreezePlan(planned.fingerprint, [1, 2]));
  denseRun = await evaluate(dense, SAMPLES, { maxNewTokens: 4 });
});

/** Re-labels the samples with new answers, keeping ids, families and images. */
function withAnswers(samples: readonly EvalSample[], answerOf: (i: number) => string): EvalSample[] {
  return samples.map((s, i) => ({ ...s, answer: answerOf(i) }));
}

describe('evaluate on a tiny random model', () => {
  it('returns one prediction per sample, in order, with the engine stats', () => {
    expect(denseRun.samples).toBe(SAMPLES.length);
    expect(denseRun.predictions.map((p) => p.id)).toEqual(SAMPLES.map((s) => s.id));
    expect(denseRun.predictions.map((p) => p.family)).toEqual(SAMPLES.map((s) => s.family));
    for (const p of denseRun.predictions) {
      expect(p.prefillMs).toBeGreaterThan(0);
      // 16 px image in 4 px patches, class token dropped: 16 visual tokens.
      expect(p.visualTokens).toBe(16);
      expect(p.promptTokens).toBeGreaterThan(p.visualTokens);
    }
    expect(denseRun.label).toBe('dense');
    expect(denseRun.frozenLayers).toEqual([]);
    expect(denseRun.flops.ratio).toBe(1);
    const sorted = denseRun.predictions.map((p) => p.prefillMs).sort((a, b) => a - b);
    expect(denseRun.medianPrefillMs).toBeCloseTo((sorted[5]! + sorted[6]!) / 2, 10);
  });

  it('scores hand-labelled answers as written out below', async () => {
    // Each answer is a hand-made variant of the model's own prediction p, with the verdict a reader
    // gives it under the scoring rules (case, punctuation, articles and spacing do not count; missing,
    // extra or reordered words do).
    const variants: Array<[(p: string) => string, boolean]> = [
      [(p) => `The ${p.toUpperCase()}.`, true],
      [() => 'zzz not an answer', false],
      [(p) => `${p}!!`, true],
      [(p) => `a ${p}`, true],
      [(p) => `${p} extra`, false],
      [(p) => `  ${p.toUpperCase()}  `, true],
      [(p) => p.split(' ').join(', '), true],
      [(p) => p.split(' ').slice(1).join(' '), false],
      [(p) => `an ${p}?`, true],
      [() => 'red', false],
      [(p) => `"${p}"`, true],
      [(p) => p.split(' ').reverse().join(' '), false],
    ];
    expect(SAMPLES.map((s) => s.family)).toEqual([
      ...['color_of_shape', 'count', 'exists', 'describe'],
      ...['color_of_shape', 'count', 'exists', 'describe'],
      ...['color_of_shape', 'count', 'exists', 'describe'],
    ]);
    const own = denseRun.predictions.map((p) => p.prediction);
    // The describe rows' F1 below assumes four distinct words in samples 7 and 11, and a sample 9 that is not "red".
    for (const i of [7, 11]) expect(new Set(own[i]!.split(' ')).size, `prediction ${i}: ${own[i]}`).toBe(4);
    expect(own[9]).not.toBe('red');
    const samples = withAnswers(SAMPLES, (i) => variants[i]![0](own[i]!));
    const run = await evaluate(dense, samples, { maxNewTokens: 4 });
    expect(run.predictions.map((p) => p.prediction)).toEqual(own);
    expect(run.predictions.map((p) => p.correct)).toEqual(variants.map(([, verdict]) => verdict));

    // color_of_shape 0,4,8: 2 of 3; count 1,5,9: 1 of 3; exists 2,6,10: 3 of 3; describe 3,7,11: 1 of 3.
    expect(run.perFamily).toEqual({
      color_of_shape: { samples: 3, correct: 2, accuracy: 2 / 3 },
      count: { samples: 3, correct: 1, accuracy: 1 / 3 },
      describe: { samples: 3, correct: 1, accuracy: 1 / 3 },
      exists: { samples: 3, correct: 3, accuracy: 1 },
    });
    expect(Object.keys(run.perFamily)).toEqual(['color_of_shape', 'count', 'describe', 'exists']);
    // Accuracy counts the nine single-answer samples only: 2 + 1 + 3 right.
    expect(run.singleAnswerSamples).toBe(9);
    expect(run.accuracy).toBeCloseTo(6 / 9, 12);
    expect(run.description).not.toBeNull();
    expect(run.description!.samples).toBe(3);
    expect(run.description!.exactMatch).toBeCloseTo(1 / 3, 12);
    // F1 of the describe rows: "a p" 1; p without its first word, precision 3/3 recall 3/4, 6/7;
    // p reversed holds the same words, 1.
    expect(run.description!.f1).toBeCloseTo((1 + 6 / 7 + 1) / 3, 12);
  });

  it("gives accuracy 1 and agreement 1 against the engine's own dense answers", async () => {
    const own = withAnswers(SAMPLES, (i) => denseRun.predictions[i]!.prediction);
    const again = await evaluate(dense, own, { maxNewTokens: 4 });
    expect(again.accuracy).toBe(1);
    expect(Object.values(again.perFamily).every((f) => f.accuracy === 1)).toBe(true);
    expect(again.description!.exactMatch).toBe(1);
    expect(again.description!.f1).toBe(1);
    const cmp = compareRuns(denseRun, again);
    expect(cmp.agreement).toBe(1);
    expect(Object.values(cmp.perFamily).every((f) => f.agreement === 1)).toBe(true);
  });

  it('runs a planned engine and compares it with dense', async () => {
    const progress: Array<[number, number]> = [];
    const run = await evaluate(planned, SAMPLES, {
      maxNewTokens: 4,
      onProgress: (done, total) => progress.push([done, total]),
    });
    expect(progress).toEqual(SAMPLES.map((_, i) => [i + 1, SAMPLES.length]));
    expect(run.label).toBe('shortv');
    expect(run.frozenLayers).toEqual([1, 2]);
    expect(run.flops.ratio).toBeGreaterThan(0);
    expect(run.flops.ratio).toBeLessThan(1);
    expect(run.flops.ratio).toBeCloseTo(run.flops.planned / run.flops.dense, 12);
    const cmp = compareRuns(denseRun, run);
    const agree = run.predictions.filter(
      (p, i) => normalizeAnswer(p.prediction) === normalizeAnswer(denseRun.predictions[i]!.prediction),
    ).length;
    expect(cmp.agreement).toBeCloseTo(agree / SAMPLES.length, 12);
    expect(cmp.flopsRatio).toEqual({ dense: 1, other: run.flops.ratio });

    const section = reportEvalSection(denseRun, run);
    expect(section.samples).toBe(SAMPLES.length);
    expect(section.dense).toEqual({ accuracy: denseRun.accuracy, prefillMs: denseRun.medianPrefillMs });
    expect(section.shortv).toEqual({ accuracy: run.accuracy, prefillMs: run.medianPrefillMs });
    expect(section.agreement).toBe(cmp.agreement);
    for (const [family, f] of Object.entries(section.perFamily!)) {
      expect(f).toEqual({
        samples: run.perFamily[family]!.samples,
        dense: denseRun.perFamily[family]!.accuracy,
        shortv: run.perFamily[family]!.accuracy,
      });
    }
    expect(section.description!.samples).toBe(3);
    const html = renderHtmlReport({
      model: 'tiny-llava',
      numLayers: 3,
      lc: { visual: [0.5, 0.01, 0], text: [1, 0.5, 0.2] },
      plan: { frozen: run.frozenLayers, flopsRatio: run.flops.ratio },
      calibration: { samples: 4, seconds: 0.5 },
      eval: section,
    });
    expect(html).toContain('ShortV (2 of 3 layers frozen)');
  });

  it('stops at an aborted signal and refuses bad input', async () => {
    const controller = new AbortController();
    const done: number[] = [];
    const aborted = evaluate(dense, SAMPLES, {
      maxNewTokens: 2,
      signal: controller.signal,
      onProgress: (n) => {
        done.push(n);
        if (n === 2) controller.abort();
      },
    });
    await expect(aborted).rejects.toMatchObject({ code: 'E_ABORTED' });
    expect(done).toEqual([1, 2]);
    await expect(evaluate(dense, [])).rejects.toMatchObject({ code: 'E_EVAL_NO_SAMPLES' });
    await expect(evaluate(dense, SAMPLES, { maxNewTokens: 0 })).rejects.toMatchObject({
      code: 'E_EVAL_OPTIONS',
    });
    await expect(evaluate(dense, [SAMPLES[0]!, SAMPLES[0]!])).rejects.toMatchObject({
      code: 'E_EVAL_DUPLICATE_ID',
    });
  });

  it('sends the prompt option and greedy sampling to the engine', async () => {
    const seen: string[] = [];
    const spy = {
      run: async (request: Parameters<VlmEngine['run']>[0]) => {
        seen.push(request.prompt);
        expect(request.sampling).toEqual({ temperature: 0 });
        expect(request.maxNewTokens).toBe(16);
        expect(request.images).toHaveLength(1);
        return dense.run(request);
      },
    };
    await evaluate(spy, SAMPLES.slice(0, 2), { prompt: (s) => `${s.question} answer briefly` });
    expect(seen).toEqual(SAMPLES.slice(0, 2).map((s) => `${s.question} answer briefly`));
  });
});
