/**
 * One benchmark configuration in its own process, so its peak memory (VmHWM) is its own: loads the model,
 * times dense and ShortV prefill at each visual-token count, reads /proc/self memory at each phase and
 * prints one JSON line. Started by `shortv bench`; not a command of its own.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelShapesPackageDir } from '@shortv/model-shapes/node';
import { encodeModel, GraphBuilder } from '@shortv/onnx';
import { parsePlan } from '@shortv/plan';
import { buildPromptIds, VlmEngine, type WeightFormat } from '@shortv/runtime-core';
import { decodeImageFile, nodeModelFolder, nodePlatform } from '@shortv/runtime-node';
import { Tensor } from '@shortv/tensor';

export interface PeakInput {
  mode: 'peak';
  rows: number;
  inner: number;
  outer: number;
  threads: number;
  reps: number;
}

export interface PeakResult {
  ms: number[];
  gflops: number;
}

export interface BenchChildInput {
  mode: 'prefill';
  /** Which plans to time: both interleaved, or one (its own process, for its own peak memory). */
  arms: ('dense' | 'shortv')[];
  model: string;
  cacheDir: string;
  threads: number;
  visualTokens: number[];
  tokensPerImage: number;
  frozenLayers: number[];
  reps: number;
  textTokens: number;
  weights: WeightFormat;
  /** An untimed prefill after each plan switch (off where one prefill takes minutes). */
  warmup: boolean;
  /** ORT weight prepacking for the sessions on the weights file (the platform's 'auto' when absent). */
  prepackWeights?: boolean | 'auto';
}

export interface MemorySample {
  /** Resident set (all mappings counted once each), its peak so far, proportional share, anonymous memory: KiB. */
  rssKiB: number;
  hwmKiB: number;
  pssKiB: number;
  anonKiB: number;
}

export interface BenchChildResult {
  loadMs: number;
  memory: { loaded: MemorySample; dense?: MemorySample; shortv?: MemorySample; end: MemorySample };
  switchMs: number[];
  rows: {
    visualTokens: number;
    textTokens: number;
    denseMs: number[];
    shortvMs: number[];
    flopsDense: number;
    flopsShortv: number;
  }[];
}

function kib(text: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

export function memorySample(): MemorySample {
  const status = readFileSync('/proc/self/status', 'utf8');
  const rollup = readFileSync('/proc/self/smaps_rollup', 'utf8');
  return {
    rssKiB: kib(status, 'VmRSS'),
    hwmKiB: kib(status, 'VmHWM'),
    pssKiB: kib(rollup, 'Pss'),
    anonKiB: kib(rollup, 'Anonymous'),
  };
}

async function main(input: BenchChildInput): Promise<BenchChildResult> {
  const platform = nodePlatform({
    cacheDir: input.cacheDir,
    intraOpThreads: input.threads,
    ...(input.prepackWeights !== undefined ? { prepackWeights: input.prepackWeights } : {}),
  });
  const started = performance.now();
  const engine = await VlmEngine.load(nodeModelFolder(input.model), { platform, weights: input.weights });
  const loadMs = performance.now() - started;
  const loaded = memorySample();
  const files = engine.files;
  const plan = parsePlan({
    format: 'shortv.freeze-plan',
    version: 1,
    model: { architecture: 'llava', numLayers: files.config.text.numLayers, fingerprint: files.fingerprint },
    layers: input.frozenLayers.map((index) => ({ index, visual: 'freeze' })),
    prune: null,
    withdraw: null,
    lc: null,
    calibration: null,
    estimate: null,
  });
  const image = await decodeImageFile(join(modelShapesPackageDir(), 'samples', 'test-1-000000.png'));
  // A question repeated to about the text length the paper's FLOPs assume (~64 text tokens).
  const words = 'what shape is in the picture and what color is it';
  let prompt = words;
  while (
    buildPromptIds(files.tokenizer, prompt, 0, files.config.imageTokenIndex).ids.length < input.textTokens
  ) {
    prompt = `${prompt} ${words}`;
  }
  const switchMs: number[] = [];
  const setPlan = async (p: typeof plan | null) => {
    const t = performance.now();
    await engine.setPlan(p);
    switchMs.push(performance.now() - t);
  };
  const prefill = async (images: number) => {
    const result = await engine.run({
      prompt,
      images: Array.from({ length: images }, () => image),
      maxNewTokens: 1,
      sampling: { temperature: 0 },
    });
    return result.stats;
  };
  const rows: BenchChildResult['rows'] = [];
  let dense: MemorySample | undefined;
  let shortv: MemorySample | undefined;
  for (const visualTokens of input.visualTokens) {
    const images = Math.round(visualTokens / input.tokensPerImage);
    const denseMs: number[] = [];
    const shortvMs: number[] = [];
    let flops = { dense: 0, planned: 0 };
    let textTokens = 0;
    // Interleaved blocks (dense, ShortV, dense, ...) so a noisy neighbour hits both arms alike; the first
    // run after a switch warms the new session and is not timed.
    for (let rep = 0; rep < input.reps; rep++) {
      if (input.arms.includes('dense')) {
        if (engine.activePlan !== null || rep === 0) await setPlan(null);
        if (input.warmup) await prefill(images);
        const d = await prefill(images);
        denseMs.push(d.prefillMs);
        dense ??= memorySample();
        flops = { ...flops, dense: d.flops.dense };
        textTokens = d.textTokens;
      }
      if (input.arms.includes('shortv')) {
        if (engine.activePlan === null) await setPlan(plan);
        if (input.warmup) await prefill(images);
        const s = await prefill(images);
        shortvMs.push(s.prefillMs);
        shortv ??= memorySample();
        flops = s.flops;
        textTokens = s.textTokens;
      }
    }
    rows.push({
      visualTokens,
      textTokens,
      denseMs,
      shortvMs,
      flopsDense: flops.dense,
      flopsShortv: flops.planned,
    });
  }
  await engine.dispose();
  return {
    loadMs,
    memory: { loaded, ...(dense ? { dense } : {}), ...(shortv ? { shortv } : {}), end: memorySample() },
    switchMs,
    rows,
  };
}

/** ORT's own MatMul speed at the decoder's widest product: the peak a prefill can approach on this machine. */
async function peak(input: PeakInput): Promise<PeakResult> {
  const g = new GraphBuilder('matmul_peak');
  const x = g.input('x', 'float32', [input.rows, input.inner]);
  const w = new Float32Array(input.inner * input.outer);
  for (let i = 0; i < w.length; i++) w[i] = ((i * 7919) % 1000) / 1000 - 0.5;
  g.output('y', 'float32', [input.rows, input.outer], {
    from: g.op.MatMul(x, g.initializer('w', new Tensor('float32', w, [input.inner, input.outer]))),
  });
  const platform = nodePlatform({ intraOpThreads: input.threads });
  const session = await platform.createSession(encodeModel(g.toModel()).bytes);
  const feed = {
    x: platform.createTensor('float32', new Float32Array(input.rows * input.inner).fill(0.5), [
      input.rows,
      input.inner,
    ]),
  };
  await session.run(feed);
  const ms: number[] = [];
  for (let i = 0; i < input.reps; i++) {
    const t = performance.now();
    await session.run(feed);
    ms.push(performance.now() - t);
  }
  await session.release();
  // A peak is what the machine can do: the fastest run, not a median that a busy neighbour drags down.
  return { ms, gflops: (2 * input.rows * input.inner * input.outer) / Math.min(...ms) / 1e6 };
}

const input = JSON.parse(process.argv[2] ?? '{}') as BenchChildInput | PeakInput;
(input.mode === 'peak' ? peak(input) : main(input)).then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 2;
  },
);
