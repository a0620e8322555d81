import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LcScores, parseLc, selectByCount, serializeLc } from '@shortv/lc';
import { MODEL_SHAPES_FILES } from '@shortv/model-shapes';
import { modelShapesDir, modelShapesGoldenPath, modelShapesPackageDir } from '@shortv/model-shapes/node';
import { memoryModelFolder, parseLlavaConfigText } from '@shortv/models';
import { checkPlanForModel, prefillFlops, serializePlan } from '@shortv/plan';
import { tinyFreezePlan } from '@shortv/runtime-core/testing';
import { decodeImageFile } from '@shortv/runtime-node';
import type { RgbImage } from '@shortv/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineWorkerClient, type ModelInfo } from '../src/index.ts';
import { handleWorkerMessages } from '../src/worker/engine-worker.ts';

interface GoldenSample {
  image: string;
  question: string;
  expected_answer: string;
  greedy_text: string;
}

const golden = JSON.parse(readFileSync(modelShapesGoldenPath(), 'utf8')) as { samples: GoldenSample[] };
/** The bundled model's decoder depth, read from its config.json (what the worker must report). */
const LAYERS = parseLlavaConfigText(readFileSync(join(modelShapesDir(), 'config.json'), 'utf8')).text
  .numLayers;
const channel = new MessageChannel();
// The worker side runs in this process on one end of a channel, as it would on a Worker's `self`.
handleWorkerMessages(channel.port2);
const client = new EngineWorkerClient(channel.port1);
let info: ModelInfo;
let images: RgbImage[];

beforeAll(async () => {
  const folder: Record<string, Uint8Array> = {};
  for (const file of MODEL_SHAPES_FILES) folder[file] = readFileSync(join(modelShapesDir(), file));
  images = await Promise.all(
    golden.samples.map((s) => decodeImageFile(join(modelShapesPackageDir(), s.image))),
  );
  info = await client.load({ folder }, { numThreads: 1 });
}, 120_000);

afterAll(() => {
  client.terminate();
  channel.port2.close();
});

/** Runs `generate` and collects the streamed chunks alongside the result. */
async function generateStreamed(arm: 'dense' | 'plan', sample = 0) {
  const chunks: string[] = [];
  const result = await client.generate(
    { image: images[sample]!, prompt: golden.samples[sample]!.question, maxNewTokens: 48, arm },
    (text) => chunks.push(text),
  );
  return { result, streamed: chunks.join(''), chunks };
}

describe('the engine worker protocol', () => {
  it('runs plans with FastV pruning and VTW withdrawal as the engine does', async () => {
    const { VlmEngine } = await import('@shortv/runtime-core');
    const { wasmTestPlatform } = await import('@shortv/runtime-core/testing');
    const folder: Record<string, Uint8Array> = {};
    for (const file of MODEL_SHAPES_FILES) folder[file] = readFileSync(join(modelShapesDir(), file));
    const base = tinyFreezePlan(info.fingerprint, [10, 11], LAYERS);
    const plans = [
      { ...base, prune: { afterLayer: 1, keep: 0.5 } },
      { ...base, withdraw: { fromLayer: 6 } },
    ];
    for (const plan of plans) {
      const text = serializePlan(plan);
      await client.setPlan(text);
      const { result } = await generateStreamed('plan', 2);
      const engine = await VlmEngine.load(memoryModelFolder(folder), {
        platform: await wasmTestPlatform(),
        plan: JSON.parse(text),
      });
      const reference = await engine.run({
        prompt: golden.samples[2]!.question,
        images: [images[2]!],
        maxNewTokens: 48,
      });
      await engine.dispose();
      expect(result.text).toBe(reference.text);
      expect(result.stats.flops.ratio).toBeCloseTo(reference.stats.flops.ratio, 12);
    }
    await client.setPlan(null);
  });

  it('loads a model and describes it well enough to check and cost plans in the page', () => {
    expect(info).toMatchObject({
      architecture: 'llava',
      modelType: 'llava',
      textModelType: 'llama',
      numLayers: LAYERS,
      visualTokens: 144,
      backend: { backend: 'wasm', threads: 1 },
    });
    expect(info.identity).toEqual({
      architecture: 'llava',
      numLayers: LAYERS,
      hiddenSize: info.hiddenSize,
      fingerprint: info.fingerprint,
    });
    expect(info.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    const plan = tinyFreezePlan(info.fingerprint, [9, 10, 11], LAYERS);
    expect(() => checkPlanForModel(plan, info.identity)).not.toThrow();
    const flops = prefillFlops(info.flopsModel, { visualTokens: info.visualTokens, textTokens: 12 }, plan);
    expect(flops.ratio).toBeGreaterThan(0.5);
    expect(flops.ratio).toBeLessThan(1);
  });

  it('generates on the dense arm: streamed tokens make the final text, which is the golden answer', async () => {
    const { result, streamed, chunks } = await generateStreamed('dense');
    expect(chunks.length).toBeGreaterThan(0);
    expect(streamed).toBe(result.text);
    expect(result.text).toBe(golden.samples[0]!.greedy_text);
    expect(result.arm).toBe('dense');
    expect(result.stats.frozenLayers).toEqual([]);
    expect(result.stats.prefillMs).toBeGreaterThan(0);
    expect(result.stats.decodeTokensPerSecond).toBeGreaterThan(0);
  });

  it("refuses arm 'plan' before a plan is set", async () => {
    await expect(generateStreamed('plan')).rejects.toMatchObject({ code: 'E_WORKER_NO_PLAN' });
  });

  it('rejects malformed, invalid and foreign plans with the plan package codes and messages', async () => {
    await expect(client.setPlan('{"format": "shortv.freeze-plan",')).rejects.toMatchObject({
      code: 'E_PLAN_JSON',
      message: expect.stringMatching(/not valid JSON/),
    });
    const invalid = JSON.parse(serializePlan(tinyFreezePlan(info.fingerprint, [11], LAYERS)));
    invalid.layers[0].visual = 'melt';
    await expect(client.setPlan(JSON.stringify(invalid))).rejects.toMatchObject({
      code: 'E_PLAN_INVALID',
      message: expect.stringContaining('$.layers[0].visual'),
    });
    const foreign = serializePlan(tinyFreezePlan(`sha256:${'0'.repeat(64)}`, [11], LAYERS));
    await expect(client.setPlan(foreign)).rejects.toMatchObject({ code: 'E_PLAN_MODEL_MISMATCH' });
    const otherDepth = serializePlan(tinyFreezePlan(info.fingerprint, [1], 24));
    await expect(client.setPlan(otherDepth)).rejects.toThrow(
      `layer count is 24 in the plan but ${LAYERS} in the model`,
    );
  });

  it('runs the plan arm with the plan and the dense arm without it', async () => {
    const frozen = [6, 7, 8, 9, 10, 11];
    const planInfo = await client.setPlan(serializePlan(tinyFreezePlan(info.fingerprint, frozen, LAYERS)));
    expect(planInfo?.frozenLayers).toEqual(frozen);
    const planned = await generateStreamed('plan');
    expect(planned.streamed).toBe(planned.result.text);
    expect(planned.result.stats.frozenLayers).toEqual(frozen);
    expect(planned.result.stats.flops.ratio).toBeLessThan(1);
    const dense = await generateStreamed('dense');
    expect(dense.result.stats.frozenLayers).toEqual([]);
    expect(dense.result.text).toBe(golden.samples[0]!.greedy_text);
    expect(await client.setPlan(null)).toBeNull();
    await expect(generateStreamed('plan')).rejects.toMatchObject({ code: 'E_WORKER_NO_PLAN' });
  });

  it('calibrates LC with progress per sample, giving what `shortv plan` turns into a plan', async () => {
    const samples = golden.samples.slice(0, 3).map((s, i) => ({
      image: images[i]!,
      question: s.question,
      answer: s.expected_answer,
    }));
    const progress: [number, number][] = [];
    const lc = await client.calibrate({ samples, dataset: 'golden' }, (done, total) =>
      progress.push([done, total]),
    );
    expect(progress).toEqual([
      [0, 3],
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    expect(lc.samples).toBe(3);
    expect(lc.seconds).toBeGreaterThan(0);
    expect(lc.visual).toHaveLength(LAYERS);
    expect(lc.text).toHaveLength(LAYERS);
    expect(lc.visual.every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
    // lc.json round trip, then the plan the CLI would write from it; the worker accepts that plan.
    const scores: LcScores = parseLc(serializeLc(lc));
    const planText = serializePlan(selectByCount(scores, 7));
    // The page may skip the file: the plan from the result itself is the same bytes.
    expect(serializePlan(selectByCount(lc, 7))).toBe(planText);
    const planInfo = await client.setPlan(planText);
    expect(planInfo?.frozenLayers).toHaveLength(7);
  });

  it('aborts a calibration in flight with E_ABORTED, and keeps serving', async () => {
    const samples = golden.samples.map((s, i) => ({
      image: images[i]!,
      question: s.question,
      answer: s.expected_answer,
    }));
    const seen: number[] = [];
    const running = client.calibrate({ samples }, (done) => {
      seen.push(done);
      if (done === 1) client.abort();
    });
    await expect(running).rejects.toMatchObject({ code: 'E_ABORTED' });
    // The abort is read before the next sample ends, not after the whole job.
    expect(Math.max(...seen)).toBeLessThanOrEqual(2);
    const { result } = await generateStreamed('dense', 1);
    expect(result.text).toBe(golden.samples[1]!.greedy_text);
  });

  it('aborts a generation in flight with E_ABORTED', async () => {
    const running = client.generate(
      { image: images[6]!, prompt: golden.samples[6]!.question, maxNewTokens: 64, arm: 'dense' },
      () => client.abort(),
    );
    await expect(running).rejects.toMatchObject({ code: 'E_ABORTED' });
  });
});
