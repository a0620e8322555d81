import { GenerationAbortedError } from '@shortv/runtime-core';
import type { RawImage } from '@shortv/tensor';
import { ShortvError } from '@shortv/tensor';
import type { EvalEngine, EvalSample } from './evaluate.ts';
import { median } from './metrics.ts';

/**
 * The two engines timed against each other: load the same model twice, one with the plan and one
 * without. Two engines rather than one switched with `setPlan`, because a switch rebuilds the decoder
 * session, and doing that between every pair of runs would dominate the measurement's wall time.
 */
export interface PrefillArms {
  dense: EvalEngine;
  planned: EvalEngine;
}

export interface MeasurePrefillOptions {
  /** Timed dense/planned pairs per sample (default 3). */
  repeats?: number;
  /** Untimed dense/planned pairs per sample before the timed ones (default 1). */
  warmup?: number;
  prompt?: (sample: Pick<EvalSample, 'question'>) => string;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface SamplePrefillTiming {
  id: string;
  promptTokens: number;
  denseMs: number[];
  plannedMs: number[];
  denseMedianMs: number;
  plannedMedianMs: number;
  /** plannedMedianMs / denseMedianMs. */
  ratio: number;
}

export interface PrefillMeasurement {
  samples: number;
  repeats: number;
  warmup: number;
  perSample: SamplePrefillTiming[];
  /** Median over samples of each sample's median prefill time. */
  dense: { medianMs: number };
  planned: { medianMs: number };
  /** Planned relative to dense (below 1: faster), as the median of per-sample ratios and as the ratio of medians. */
  ratio: { medianOfRatios: number; ratioOfMedians: number };
  /** Dense time / planned time from the ratio of medians. */
  speedup: number;
  /** The planned arm's decoder prefill FLOPs relative to dense, summed over the samples. */
  flopsRatio: number;
  frozenLayers: number[];
}

/**
 * Decoder prefill timing, dense against planned, on the same samples in one run: per sample, warm-up
 * pairs first, then dense, planned, dense, planned... so both arms see the same machine state (CPU
 * clock, caches, other load) and drift over the run hits both alike. Each run stops after the first
 * token; only the engine's own prefill timer is read (image decoding and the vision tower are outside it).
 *
 * Timing is for benchmarks and reports; unit tests may check the structure of the result, never speed.
 */
export async function measurePrefill(
  arms: PrefillArms,
  samples: readonly EvalSample[],
  options: MeasurePrefillOptions = {},
): Promise<PrefillMeasurement> {
  const repeats = options.repeats ?? 3;
  const warmup = options.warmup ?? 1;
  if (!Number.isInteger(repeats) || repeats < 1) {
    throw new ShortvError('E_EVAL_OPTIONS', `repeats must be an integer >= 1, got ${repeats}`);
  }
  if (!Number.isInteger(warmup) || warmup < 0) {
    throw new ShortvError('E_EVAL_OPTIONS', `warmup must be an integer >= 0, got ${warmup}`);
  }
  if (samples.length === 0) {
    throw new ShortvError(
      'E_EVAL_NO_SAMPLES',
      'measurePrefill needs at least one sample; the sample list is empty',
    );
  }
  const promptOf = options.prompt ?? ((sample: Pick<EvalSample, 'question'>) => sample.question);
  const perSample: SamplePrefillTiming[] = [];
  let denseFlops = 0;
  let plannedFlops = 0;
  let frozenLayers: number[] = [];
  for (const sample of samples) {
    const image = await sample.loadImage();
    const prompt = promptOf(sample);
    const once = async (engine: EvalEngine) => {
      if (options.signal?.aborted) throw new GenerationAbortedError();
      return (await engine.run(prefillRequest(prompt, image, options.signal))).stats;
    };
    for (let i = 0; i < warmup; i++) {
      await once(arms.dense);
      await once(arms.planned);
    }
    const denseMs: number[] = [];
    const plannedMs: number[] = [];
    let promptTokens = 0;
    for (let i = 0; i < repeats; i++) {
      const d = await once(arms.dense);
      const p = await once(arms.planned);
      denseMs.push(d.prefillMs);
      plannedMs.push(p.prefillMs);
      if (i === 0) {
        denseFlops += p.flops.dense;
        plannedFlops += p.flops.planned;
        frozenLayers = p.frozenLayers;
        promptTokens = d.promptTokens;
      }
    }
    const denseMedianMs = median(denseMs);
    const plannedMedianMs = median(plannedMs);
    perSample.push({
      id: sample.id,
      promptTokens,
      denseMs,
      plannedMs,
      denseMedianMs,
      plannedMedianMs,
      ratio: plannedMedianMs / denseMedianMs,
    });
    options.onProgress?.(perSample.length, samples.length);
  }
  const denseMedian = median(perSample.map((s) => s.denseMedianMs));
  const plannedMedian = median(perSample.map((s) => s.plannedMedianMs));
  const ratioOfMedians = plannedMedian / denseMedian;
  return {
    samples: perSample.length,
    repeats,
    warmup,
    perSample,
    dense: { medianMs: denseMedian },
    planned: { medianMs: plannedMedian },
    ratio: { medianOfRatios: median(perSample.map((s) => s.ratio)), ratioOfMedians },
    speedup: 1 / ratioOfMedians,
    flopsRatio: denseFlops > 0 ? plannedFlops / denseFlops : 1,
    frozenLayers,
  };
}

function prefillRequest(prompt: string, image: RawImage, signal: AbortSignal | undefined) {
  return {
    prompt,
    images: [image],
    maxNewTokens: 1,
    sampling: { temperature: 0 },
    ...(signal ? { signal } : {}),
  };
}
