import { GenerationAbortedError } from '@shortv/runtime-core';
import { ShortvError } from '@shortv/tensor';
import type { EvalEngine, EvalSample } from './evaluate.ts';
import { median } from './metrics.ts';

export interface TimedArm {
  label: string;
  engine: EvalEngine;
}

export interface ArmTiming {
  label: string;
  /** Median over samples of each sample's median prefill time. */
  medianMs: number;
  /** 90th percentile over samples of each sample's median prefill time. */
  p90Ms: number;
  /** medianMs relative to the first arm's. */
  ratioToFirst: number;
}

export interface ArmsMeasurement {
  samples: number;
  repeats: number;
  warmup: number;
  arms: ArmTiming[];
}

/** The q-quantile (0..1) of a list by linear interpolation between order statistics; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const at = q * (sorted.length - 1);
  const low = Math.floor(at);
  const high = Math.min(sorted.length - 1, low + 1);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (at - low);
}

/**
 * Decoder prefill timing of any number of engines on the same samples, interleaved per sample (arm 1,
 * arm 2, ..., arm 1, ...) after untimed warm-up rounds, so drift in machine state hits every arm alike.
 * Each run stops after the first token; only the engine's prefill timer is read.
 */
export async function measurePrefillArms(
  arms: readonly TimedArm[],
  samples: readonly EvalSample[],
  options: {
    repeats?: number;
    warmup?: number;
    prompt?: (sample: EvalSample) => string;
    onProgress?: (done: number, total: number) => void;
    signal?: AbortSignal;
  } = {},
): Promise<ArmsMeasurement> {
  const repeats = options.repeats ?? 3;
  const warmup = options.warmup ?? 1;
  if (arms.length === 0 || samples.length === 0 || !(repeats >= 1) || !(warmup >= 0)) {
    throw new ShortvError(
      'E_EVAL_OPTIONS',
      `prefill timing needs arms, samples, repeats >= 1 and warmup >= 0; got ${arms.length} arms, ${samples.length} samples, repeats ${repeats}, warmup ${warmup}`,
    );
  }
  const promptOf = options.prompt ?? ((s: EvalSample) => s.question);
  const perArm: number[][] = arms.map(() => []);
  for (const [k, sample] of samples.entries()) {
    const image = await sample.loadImage();
    const request = {
      prompt: promptOf(sample),
      images: [image],
      maxNewTokens: 1,
      sampling: { temperature: 0 },
      ...(options.signal ? { signal: options.signal } : {}),
    };
    const times: number[][] = arms.map(() => []);
    for (let round = 0; round < warmup + repeats; round++) {
      for (const [a, arm] of arms.entries()) {
        if (options.signal?.aborted) throw new GenerationAbortedError();
        const { stats } = await arm.engine.run(request);
        if (round >= warmup) times[a]!.push(stats.prefillMs);
      }
    }
    times.forEach((t, a) => {
      perArm[a]!.push(median(t));
    });
    options.onProgress?.(k + 1, samples.length);
  }
  const first = median(perArm[0]!);
  return {
    samples: samples.length,
    repeats,
    warmup,
    arms: arms.map((arm, a) => ({
      label: arm.label,
      medianMs: median(perArm[a]!),
      p90Ms: quantile(perArm[a]!, 0.9),
      ratioToFirst: median(perArm[a]!) / first,
    })),
  };
}
