import { type FreezePlan, PLAN_FORMAT, PLAN_VERSION, parsePlan } from '@shortv/plan';
import { GenerationAbortedError, type VlmEngine } from '@shortv/runtime-core';
import { klDivergenceFromLogits, ShortvError } from '@shortv/tensor';
import type { LcSample } from './lc.ts';

/** What the search needs from an engine (a `VlmEngine` satisfies it). */
export type VtwEngine = Pick<VlmEngine, 'setPlan' | 'promptLogits' | 'fingerprint' | 'config'>;

export interface VtwSearchOptions {
  /** Largest mean KL(P_withdrawn || P) accepted at the last prompt token (default 0.01). */
  eta?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface VtwSearchResult {
  /** The first layer whose withdrawal keeps the mean KL at most eta; null if none does. */
  fromLayer: number | null;
  eta: number;
  /** Mean KL per tried layer, in the order tried (K = 0, 1, ... up to the chosen one). */
  tried: { fromLayer: number; kl: number }[];
  samples: number;
  /** Prefill passes run: one dense plus one per tried layer, per sample. */
  passes: number;
}

function withdrawPlan(engine: VtwEngine, fromLayer: number): FreezePlan {
  return parsePlan({
    format: PLAN_FORMAT,
    version: PLAN_VERSION,
    model: {
      architecture: 'llava',
      numLayers: engine.config.text.numLayers,
      fingerprint: engine.fingerprint,
    },
    layers: [],
    prune: null,
    withdraw: { fromLayer },
    lc: null,
    calibration: null,
    estimate: null,
  });
}

/**
 * VTW's layer search: K is the first layer from which withdrawing every visual token keeps
 * KL(P_withdrawn || P) of the next-token distribution at the last prompt token, averaged over the
 * calibration samples, at most `eta`. Layers are tried upwards from 0 and the search stops at the first
 * that qualifies, so it costs one dense pass plus one pass per tried layer per sample. The engine is left
 * dense.
 */
export async function searchVtwLayer(
  engine: VtwEngine,
  samples: readonly LcSample[],
  options: VtwSearchOptions = {},
): Promise<VtwSearchResult> {
  const eta = options.eta ?? 0.01;
  if (!(eta >= 0) || !Number.isFinite(eta)) {
    throw new ShortvError('E_INPUT_ETA', `eta must be a finite number >= 0, got ${eta}`);
  }
  if (samples.length === 0) {
    throw new ShortvError('E_INPUT_SAMPLES', 'the VTW search needs at least one calibration sample');
  }
  const L = engine.config.text.numLayers;
  const check = () => {
    if (options.signal?.aborted) throw new GenerationAbortedError();
  };
  const request = (s: LcSample) => ({
    prompt: s.prompt,
    images: s.images,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const total = samples.length * (L + 1);
  let done = 0;
  await engine.setPlan(null);
  const dense: Float32Array[] = [];
  for (const sample of samples) {
    check();
    dense.push(await engine.promptLogits(request(sample)));
    options.onProgress?.(++done, total);
  }
  const tried: { fromLayer: number; kl: number }[] = [];
  let fromLayer: number | null = null;
  try {
    for (let k = 0; k < L && fromLayer === null; k++) {
      await engine.setPlan(withdrawPlan(engine, k));
      let sum = 0;
      for (const [i, sample] of samples.entries()) {
        check();
        sum += klDivergenceFromLogits(await engine.promptLogits(request(sample)), dense[i]!);
        options.onProgress?.(++done, total);
      }
      const kl = sum / samples.length;
      tried.push({ fromLayer: k, kl });
      if (kl <= eta) fromLayer = k;
    }
  } finally {
    await engine.setPlan(null);
  }
  options.onProgress?.(total, total);
  return { fromLayer, eta, tried, samples: samples.length, passes: samples.length * (tried.length + 1) };
}
