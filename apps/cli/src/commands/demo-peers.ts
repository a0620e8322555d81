import {
  type EvalRun,
  type EvalSample,
  evaluate,
  formatMs,
  formatPercent,
  formatRatio,
  measurePrefillArms,
  type PeerRow,
} from '@shortv/eval';
import { type LcSample, searchVtwLayer, type VtwSearchResult } from '@shortv/lc';
import type { FreezePlan } from '@shortv/plan';
import type { VlmEngine } from '@shortv/runtime-core';
import type { CommandContext } from '../command.ts';
import { loadEngine } from '../model.ts';
import { ProgressBar } from '../progress.ts';
import { peerPlan } from './plan-peers.ts';

/** FastV's published default: prune after layer K-1 = 1, dropping R = 50% of the visual tokens. */
const FASTV = { afterLayer: 1, keep: 0.5 } as const;

export interface PeerComparison {
  rows: PeerRow[];
  vtw: VtwSearchResult;
  vtwLayer: number;
}

interface PeerArm {
  label: string;
  plan: FreezePlan | null;
  run?: EvalRun;
}

/**
 * The paper's peer table on the demo's questions: dense, FastV (K=2, R=50%), VTW (K from its KL search on
 * the calibration samples), ShortV (the demo's plan) and ShortV + FastV. Accuracy from greedy runs on the
 * held-out questions (dense and ShortV reuse the demo's runs); prefill from one interleaved timing of the five.
 */
export async function peerComparison(
  ctx: CommandContext,
  args: {
    engine: VlmEngine;
    modelDir: string;
    shortvPlan: FreezePlan;
    calibration: readonly LcSample[];
    test: readonly EvalSample[];
    dense: EvalRun;
    shortv: EvalRun;
    eta: number;
    timingSamples: number;
    maxNewTokens: number;
    signal: AbortSignal;
  },
): Promise<PeerComparison> {
  const { engine } = args;
  const searchBar = new ProgressBar(ctx.io, 'VTW search', !ctx.json);
  const vtw = await searchVtwLayer(engine, args.calibration, {
    eta: args.eta,
    signal: args.signal,
    onProgress: (done, total) => searchBar.update(done, total),
  });
  // With no layer within eta, VTW's rule has no answer; the least harmful layer stands in and the label says so.
  const best = vtw.tried.reduce((a, b) => (b.kl < a.kl ? b : a));
  const vtwLayer = vtw.fromLayer ?? best.fromLayer;
  const vtwKl = vtw.tried.find((t) => t.fromLayer === vtwLayer)!.kl;
  searchBar.done(
    `K = ${vtwLayer} (KL ${vtwKl.toExponential(2)}${vtw.fromLayer === null ? `, none <= ${args.eta}` : ''})`,
  );
  const tokens = args.shortvPlan.estimate ?? { visualTokens: engine.config.imageSeqLength, textTokens: 32 };
  const shape = { visualTokens: tokens.visualTokens, textTokens: tokens.textTokens };
  const n = args.shortvPlan.layers.length;
  const arms: PeerArm[] = [
    { label: 'dense', plan: null, run: args.dense },
    { label: 'FastV (K=2, R=50%)', plan: peerPlan(engine, { prune: FASTV, fromLayer: null }, shape) },
    {
      label: `VTW (K=${vtwLayer}${vtw.fromLayer === null ? `, min KL; none <= ${args.eta}` : `, KL <= ${args.eta}`})`,
      plan: peerPlan(engine, { prune: null, fromLayer: vtwLayer }, shape),
    },
    { label: `ShortV (N=${n})`, plan: args.shortvPlan, run: args.shortv },
    {
      label: `ShortV (N=${n}) + FastV`,
      plan: peerPlan(engine, { base: args.shortvPlan, prune: FASTV, fromLayer: null }, shape),
    },
  ];
  for (const arm of arms) {
    if (arm.run) continue;
    await engine.setPlan(arm.plan);
    const bar = new ProgressBar(ctx.io, `eval ${arm.label}`, !ctx.json);
    arm.run = await evaluate(engine, args.test, {
      label: arm.label,
      maxNewTokens: args.maxNewTokens,
      signal: args.signal,
      onProgress: (done, total) => bar.update(done, total),
    });
    bar.done(formatPercent(arm.run.accuracy ?? 0));
  }
  await engine.setPlan(null);
  const engines: VlmEngine[] = [engine];
  try {
    for (const arm of arms.slice(1)) engines.push(await loadEngine(ctx, args.modelDir, arm.plan));
    const timeBar = new ProgressBar(ctx.io, 'peer timing', !ctx.json);
    const timing = await measurePrefillArms(
      arms.map((arm, i) => ({ label: arm.label, engine: engines[i]! })),
      args.test.slice(0, args.timingSamples),
      { repeats: 3, warmup: 1, signal: args.signal, onProgress: (d, t) => timeBar.update(d, t) },
    );
    timeBar.done(`${timing.samples} samples x ${timing.repeats}, interleaved`);
    const rows = arms.map((arm, i) => ({
      label: arm.label,
      accuracy: arm.run!.accuracy,
      flopsRatio: arm.run!.flops.ratio,
      prefillMs: timing.arms[i]!.medianMs,
      prefillRatio: timing.arms[i]!.ratioToFirst,
      frozen: arm.plan?.layers.map((l) => l.index) ?? [],
      prune: arm.plan?.prune ?? null,
      withdraw: arm.plan?.withdraw ?? null,
    }));
    return { rows, vtw, vtwLayer };
  } finally {
    for (const e of engines.slice(1)) await e.dispose();
  }
}

/** The peer table as terminal text. */
export function peerText(rows: readonly PeerRow[]): string {
  const width = Math.max(...rows.map((r) => r.label.length));
  const lines = [`${'method'.padEnd(width)}  accuracy   FLOPs   prefill (median)  vs dense`];
  for (const r of rows) {
    lines.push(
      `${r.label.padEnd(width)}  ${formatPercent(r.accuracy).padStart(8)}  ${formatPercent(r.flopsRatio).padStart(6)}  ${formatMs(r.prefillMs).padStart(16)}  ${formatRatio(r.prefillRatio).padStart(8)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
