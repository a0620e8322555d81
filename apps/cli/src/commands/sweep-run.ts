import { type EvalSample, measurePrefill, type SweepSection, sweepLayerChoices } from '@shortv/eval';
import { buildPlan, type LcScores, rankLayers } from '@shortv/lc';
import { prefillFlops } from '@shortv/plan';
import { createRandom, type VlmEngine } from '@shortv/runtime-core';
import type { CommandContext } from '../command.ts';
import { ProgressBar } from '../progress.ts';

export const SWEEP_RANDOM_SEEDS = 5;

/** The rules of the paper's N-sweep and layer-choice tables: LC order, random orders, first N, last N. */
export function sweepRules(lc: LcScores, seed: number): { label: string; orders: number[][] }[] {
  const L = lc.model.numLayers;
  const random = createRandom(seed + 1);
  const shuffled = () => {
    const order = Array.from({ length: L }, (_, i) => i);
    for (let i = L - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    return order;
  };
  return [
    { label: 'LC', orders: [rankLayers(lc)] },
    {
      label: `random (mean of ${SWEEP_RANDOM_SEEDS})`,
      orders: Array.from({ length: SWEEP_RANDOM_SEEDS }, shuffled),
    },
    { label: 'first N', orders: [Array.from({ length: L }, (_, i) => i)] },
    { label: 'last N', orders: [Array.from({ length: L }, (_, i) => L - 1 - i)] },
  ];
}

/**
 * Accuracy for N = 0..L by each rule (shared-prefix layerwise pass), the FLOPs ratio per N, and the prefill
 * ratio per N measured with the LC-chosen layers on two engines timed in turn (`dense` is set to dense;
 * `planned` takes each N's plan).
 */
export async function runSweep(
  ctx: CommandContext,
  engines: { dense: VlmEngine; planned: VlmEngine },
  lc: LcScores,
  samples: readonly EvalSample[],
  options: { seed: number; timingSamples: number; signal: AbortSignal },
): Promise<SweepSection> {
  const L = lc.model.numLayers;
  const rules = sweepRules(lc, options.seed);
  await engines.dense.setPlan(null);
  const bar = new ProgressBar(ctx.io, 'N-sweep', !ctx.json);
  const result = await sweepLayerChoices(engines.dense, samples, rules, {
    signal: options.signal,
    onProgress: (done, total) => bar.update(done, total),
  });
  bar.done(
    `${result.sets} layer sets, ${result.layerRuns.toFixed(0)} of ${result.naiveLayerRuns} layer runs per sample`,
  );
  const t = engines.dense.config.text;
  const flopsRatio = Array.from(
    { length: L + 1 },
    (_, n) =>
      prefillFlops(t, lc.tokens, { layers: Array.from({ length: n }, (_, index) => ({ index })) }).ratio,
  );
  const order = rankLayers(lc);
  const timeBar = new ProgressBar(ctx.io, 'N-sweep timing', !ctx.json);
  const prefillRatio: (number | null)[] = [];
  for (let n = 0; n <= L; n++) {
    await engines.planned.setPlan(n === 0 ? null : buildPlan(lc, order.slice(0, n)));
    const timing = await measurePrefill(engines, samples.slice(0, options.timingSamples), {
      repeats: 3,
      warmup: 1,
      signal: options.signal,
    });
    // The median of per-sample ratios: each ratio pairs runs made moments apart, so load from other
    // processes between samples cancels out better than in a ratio of medians.
    prefillRatio.push(timing.ratio.medianOfRatios);
    timeBar.update(n + 1, L + 1);
  }
  timeBar.done(`prefill ratio at N = ${L}: ${prefillRatio[L]!.toFixed(3)}`);
  return {
    samples: result.samples,
    numLayers: L,
    rules: result.rules.map((r) => ({ label: r.label, accuracy: r.points.map((p) => p.accuracy) })),
    flopsRatio,
    prefillRatio,
    method:
      'Accuracy: every reference answer token is the greedy choice with the earlier ones fed back (one layer-by-layer pass per sample, no generation), on',
    cost: {
      sets: result.sets,
      layerRunsPerSample: result.layerRuns,
      naiveLayerRunsPerSample: result.naiveLayerRuns,
    },
  };
}
