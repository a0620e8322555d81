import { type GenerationRequest, VlmEngine } from '@shortv/runtime-core';
import { nodeTestPlatform, tinyFreezePlan } from '@shortv/runtime-core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { type EvalEngine, measurePrefill } from '../src/index.ts';
import { tinyGqaFolder, tinySamples } from './helpers/tiny-model.ts';

// Structure and bookkeeping only: how fast either arm runs is for benchmarks, never asserted here.

let dense: VlmEngine;
let planned: VlmEngine;

beforeAll(async () => {
  const platform = await nodeTestPlatform();
  dense = await VlmEngine.load(tinyGqaFolder(), { platform });
  const folder = tinyGqaFolder();
  const files = await VlmEngine.readFiles(folder);
  planned = await VlmEngine.load(folder, { platform, plan: tinyFreezePlan(files.fingerprint, [0, 2]) });
});

/** Passes requests through to an engine and logs which arm ran, with the prompt. */
function logged(name: string, engine: EvalEngine, log: string[]): EvalEngine {
  return {
    run: (request: GenerationRequest) => {
      log.push(`${name}:${request.prompt}`);
      expect(request.maxNewTokens).toBe(1);
      return engine.run(request);
    },
  };
}

describe('measurePrefill', () => {
  it('runs warm-up pairs, then dense and planned alternately on each sample', async () => {
    const samples = tinySamples(3).map((s, i) => ({ ...s, question: `q${i}` }));
    const log: string[] = [];
    const loads: string[] = [];
    const result = await measurePrefill(
      { dense: logged('D', dense, log), planned: logged('P', planned, log) },
      samples.map((s) => ({
        ...s,
        loadImage: () => {
          loads.push(s.id);
          return s.loadImage();
        },
      })),
      { repeats: 2, warmup: 1, prompt: (s) => s.question },
    );
    const expected = ['q0', 'q1', 'q2'].flatMap((q) => [
      `D:${q}`,
      `P:${q}`,
      `D:${q}`,
      `P:${q}`,
      `D:${q}`,
      `P:${q}`,
    ]);
    expect(log).toEqual(expected);
    expect(loads).toEqual(['s0', 's1', 's2']);
    expect(result.samples).toBe(3);
    expect(result.repeats).toBe(2);
    expect(result.warmup).toBe(1);
  });

  it('keeps every timed value and derives medians and ratios from them', async () => {
    const progress: number[] = [];
    const result = await measurePrefill({ dense, planned }, tinySamples(4), {
      repeats: 3,
      warmup: 0,
      onProgress: (done, total) => {
        expect(total).toBe(4);
        progress.push(done);
      },
    });
    expect(progress).toEqual([1, 2, 3, 4]);
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
    for (const s of result.perSample) {
      expect(s.denseMs).toHaveLength(3);
      expect(s.plannedMs).toHaveLength(3);
      for (const ms of [...s.denseMs, ...s.plannedMs]) expect(ms).toBeGreaterThan(0);
      expect(s.denseMedianMs).toBe(med(s.denseMs));
      expect(s.plannedMedianMs).toBe(med(s.plannedMs));
      expect(s.ratio).toBeCloseTo(s.plannedMedianMs / s.denseMedianMs, 12);
      expect(s.promptTokens).toBeGreaterThan(16);
    }
    const mid = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return (s[1]! + s[2]!) / 2;
    };
    expect(result.dense.medianMs).toBeCloseTo(mid(result.perSample.map((s) => s.denseMedianMs)), 12);
    expect(result.planned.medianMs).toBeCloseTo(mid(result.perSample.map((s) => s.plannedMedianMs)), 12);
    expect(result.ratio.ratioOfMedians).toBeCloseTo(result.planned.medianMs / result.dense.medianMs, 12);
    expect(result.ratio.medianOfRatios).toBeCloseTo(mid(result.perSample.map((s) => s.ratio)), 12);
    expect(result.speedup).toBeCloseTo(1 / result.ratio.ratioOfMedians, 12);
    expect(result.frozenLayers).toEqual([0, 2]);
    let denseFlops = 0;
    let plannedFlops = 0;
    for (const sample of tinySamples(4)) {
      const { stats } = await planned.run({
        prompt: sample.question,
        images: [await sample.loadImage()],
        maxNewTokens: 1,
      });
      denseFlops += stats.flops.dense;
      plannedFlops += stats.flops.planned;
    }
    expect(result.flopsRatio).toBeLessThan(1);
    expect(result.flopsRatio).toBeCloseTo(plannedFlops / denseFlops, 12);
  });

  it('refuses bad options and stops on abort', async () => {
    const samples = tinySamples(2);
    await expect(measurePrefill({ dense, planned }, samples, { repeats: 0 })).rejects.toMatchObject({
      code: 'E_EVAL_OPTIONS',
    });
    await expect(measurePrefill({ dense, planned }, samples, { warmup: -1 })).rejects.toMatchObject({
      code: 'E_EVAL_OPTIONS',
    });
    await expect(measurePrefill({ dense, planned }, [])).rejects.toMatchObject({ code: 'E_EVAL_NO_SAMPLES' });
    const controller = new AbortController();
    controller.abort();
    await expect(
      measurePrefill({ dense, planned }, samples, { signal: controller.signal }),
    ).rejects.toMatchObject({ code: 'E_ABORTED' });
  });
});
