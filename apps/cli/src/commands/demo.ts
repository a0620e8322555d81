import { join, resolve } from 'node:path';
import {
  type AblationRow,
  betterCalibration,
  type CalibrationArm,
  type CalibrationChoice,
  calibrationChoiceVerdict,
  type DemoReport,
  type EvalRun,
  type EvalSample,
  evaluate,
  FREE_TEXT_FAMILIES,
  formatPercent,
  measurePrefill,
  renderHtmlReport,
  renderTerminalLcChart,
  reportEvalSection,
} from '@shortv/eval';
import {
  type LcResult,
  layerContribution,
  rankLayers,
  selectByCount,
  selectByFlops,
  serializeLc,
} from '@shortv/lc';
import { MODEL_SHAPES_ID } from '@shortv/model-shapes';
import { type FreezePlan, prefillFlops, serializePlan } from '@shortv/plan';
import { createRandom, type VlmEngine } from '@shortv/runtime-core';
import type { Command, CommandContext } from '../command.ts';
import { UsageError } from '../errors.ts';
import { checkOutputFolder, writeFileAtomic } from '../files.ts';
import { integerFlag, numberFlag, rejectPositionals, stringFlag } from '../flags.ts';
import { loadEngine, MODEL_OPTION_HELP, MODEL_OPTIONS, resolveModelDir } from '../model.ts';
import { ProgressBar } from '../progress.ts';
import { abortOnSigint } from '../signals.ts';
import { CLI_VERSION } from '../version.ts';
import { type DemoData, demoData } from './demo-data.ts';
import { peerComparison, peerText } from './demo-peers.ts';
import { sweepText } from './sweep.ts';
import { runSweep } from './sweep-run.ts';

const USAGE =
  'shortv demo [--model DIR] [--out shortv-out] [--calibration-samples 40] [--eval-samples 240] ' +
  '[--layers N | --flops RATIO] [--ablation-samples 120 | --no-ablation] [--no-peers] [--vtw-eta 1] ' +
  '[--sweep-samples 120 | --no-sweep] [--no-multi-token] [--seed 0] [--json]';

const MAX_ANSWER_TOKENS = 64;
const RANDOM_SEEDS = 5;

function evalOnPlan(
  engine: VlmEngine,
  plan: FreezePlan | null,
  samples: readonly EvalSample[],
  label: string,
  bar: ProgressBar,
  signal: AbortSignal,
): Promise<EvalRun> {
  return engine.setPlan(plan).then(() =>
    evaluate(engine, samples, {
      label,
      maxNewTokens: MAX_ANSWER_TOKENS,
      signal,
      onProgress: (done, total) => bar.update(done, total),
    }),
  );
}

function planWithLayers(base: FreezePlan, layers: readonly number[]): FreezePlan {
  return {
    ...base,
    layers: [...layers].sort((a, b) => a - b).map((index) => ({ index, visual: 'freeze' as const })),
  };
}

/**
 * First-token vs multi-token calibration at the same N: a second LC run on calibration data where half
 * the questions are descriptions, scored over all their answer tokens (teacher-forced), then both
 * plans answer the held-out descriptions.
 */
async function calibrationChoice(
  ctx: CommandContext,
  engine: VlmEngine,
  args: {
    lc: LcResult;
    plan: FreezePlan;
    dense: EvalRun;
    shortv: EvalRun;
    calibration: DemoData['calibrationMultiToken'];
    test: readonly EvalSample[];
    seed: number;
    signal: AbortSignal;
  },
): Promise<{ choice: CalibrationChoice; lc: LcResult } | undefined> {
  const descriptions = args.test.filter((s) => FREE_TEXT_FAMILIES.includes(s.family));
  if (!args.dense.description || !args.shortv.description || descriptions.length === 0) return undefined;
  const bar = new ProgressBar(ctx.io, 'calibrating (multi-token)', !ctx.json);
  const lc = await layerContribution(engine, args.calibration, {
    seed: args.seed,
    aggregation: 'all',
    dataset: 'shapes calibration split, descriptions included',
    createdWith: `shortv ${CLI_VERSION}`,
    signal: args.signal,
    onProgress: (p) => bar.update(p.sample + (p.layer === null ? 0 : (p.layer + 1) / p.layers), p.samples),
  });
  bar.done(`${lc.samples} samples, ${lc.seconds.toFixed(1)} s`);
  const plan = selectByCount(lc, args.plan.layers.length, { model: args.plan.model });
  const evalBar = new ProgressBar(ctx.io, 'eval descriptions', !ctx.json);
  const run = await evalOnPlan(engine, plan, descriptions, 'shortv multi-token', evalBar, args.signal);
  const d = run.description!;
  evalBar.done(`token F1 ${d.f1.toFixed(3)}`);
  const arms: CalibrationArm[] = [
    {
      calibration: 'first-token',
      metric: args.lc.metric,
      frozen: args.plan.layers.map((l) => l.index),
      exactMatch: args.shortv.description.exactMatch,
      f1: args.shortv.description.f1,
    },
    {
      calibration: 'multi-token',
      metric: lc.metric,
      frozen: plan.layers.map((l) => l.index),
      exactMatch: d.exactMatch,
      f1: d.f1,
    },
  ];
  return {
    lc,
    choice: {
      layers: args.plan.layers.length,
      samples: d.samples,
      dense: { exactMatch: args.dense.description.exactMatch, f1: args.dense.description.f1 },
      arms,
      better: betterCalibration(arms),
    },
  };
}

/** The paper's layer-choice ablation: LC-chosen vs random (mean of seeds) vs last N vs first N layers. */
async function layerChoiceAblation(
  ctx: CommandContext,
  engine: VlmEngine,
  plan: FreezePlan,
  samples: readonly EvalSample[],
  seed: number,
  signal: AbortSignal,
): Promise<AblationRow[]> {
  const L = plan.model.numLayers;
  const n = plan.layers.length;
  const t = engine.config.text;
  const dims = { ...t, numHeads: t.numHeads, numKvHeads: t.numKvHeads, headDim: t.headDim };
  const tokens = {
    visualTokens: plan.estimate?.visualTokens ?? 1,
    textTokens: plan.estimate?.textTokens ?? 1,
  };
  const ratio = (layers: number[]) =>
    prefillFlops(dims, tokens, { layers: layers.map((index) => ({ index })) }).ratio;
  const random = createRandom(seed + 1);
  const randomSets = Array.from({ length: RANDOM_SEEDS }, () => {
    const order = Array.from({ length: L }, (_, i) => i);
    for (let i = L - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    return order.slice(0, n).sort((a, b) => a - b);
  });
  const arms: { label: string; sets: number[][] }[] = [
    { label: 'LC-chosen', sets: [plan.layers.map((l) => l.index)] },
    { label: `random (mean of ${RANDOM_SEEDS} seeds)`, sets: randomSets },
    { label: `last ${n}`, sets: [Array.from({ length: n }, (_, i) => L - n + i)] },
    { label: `first ${n}`, sets: [Array.from({ length: n }, (_, i) => i)] },
  ];
  const rows: AblationRow[] = [];
  for (const arm of arms) {
    const accuracies: number[] = [];
    for (const [k, layers] of arm.sets.entries()) {
      const bar = new ProgressBar(
        ctx.io,
        `ablation ${arm.label.split(' ')[0]}${arm.sets.length > 1 ? ` ${k + 1}` : ''}`,
        !ctx.json,
      );
      const run = await evalOnPlan(engine, planWithLayers(plan, layers), samples, arm.label, bar, signal);
      bar.done(formatPercent(run.accuracy ?? 0));
      accuracies.push(run.accuracy ?? 0);
    }
    const mean = accuracies.reduce((a, b) => a + b, 0) / accuracies.length;
    rows.push({
      label: arm.label,
      accuracy: mean,
      ...(arm.sets.length === 1 ? { layers: arm.sets[0]! } : {}),
      flopsRatio: arm.sets.map(ratio).reduce((a, b) => a + b, 0) / arm.sets.length,
      samples: samples.length,
    });
  }
  return rows;
}

function summaryTable(report: DemoReport): string {
  const e = report.eval;
  const pct = (v: number | null) => (v === null ? 'n/a' : formatPercent(v));
  const lines = [
    '',
    `                 accuracy   prefill (median)   prefill FLOPs`,
    `dense            ${pct(e.dense.accuracy).padStart(8)}   ${e.dense.prefillMs.toFixed(1).padStart(10)} ms   100.0%`,
    `ShortV           ${pct(e.shortv.accuracy).padStart(8)}   ${e.shortv.prefillMs.toFixed(1).padStart(10)} ms   ${formatPercent(report.plan.flopsRatio).padStart(6)}`,
  ];
  if (e.dense.accuracy && e.shortv.accuracy !== null) {
    lines.push(
      `ShortV keeps ${formatPercent(e.shortv.accuracy / e.dense.accuracy)} of dense accuracy on ${e.samples} held-out questions`,
    );
  }
  if (report.timing) {
    lines.push(
      `interleaved prefill timing: ShortV/dense = ${report.timing.ratio.ratioOfMedians.toFixed(3)} (median of ${report.timing.repeats} repeats x ${report.timing.samples} samples)`,
    );
  }
  const ablation = report.ablation ?? [];
  if (ablation.length > 0) {
    // The ablation runs on the first N single-answer questions, so its figures compare with each other, not with the lines above.
    const n = ablation[0]?.samples;
    lines.push(
      `layer-choice ablation, ${report.plan.frozen.length} layers frozen${n === undefined ? '' : `, first ${n} single-answer questions`}:`,
    );
  }
  for (const row of ablation) {
    lines.push(`ablation  ${row.label.padEnd(26)} ${pct(row.accuracy)}`);
  }
  const choice = report.calibrationChoice;
  if (choice) {
    lines.push(
      `descriptions (${choice.samples}, ${choice.layers} frozen): dense EM ${pct(choice.dense.exactMatch)} F1 ${choice.dense.f1.toFixed(3)}`,
    );
    for (const a of choice.arms) {
      lines.push(
        `  ${`${a.calibration} calibration`.padEnd(26)} EM ${pct(a.exactMatch)} F1 ${a.f1.toFixed(3)}  layers ${a.frozen.join(',')}`,
      );
    }
    lines.push(calibrationChoiceVerdict(choice));
  }
  return `${lines.join('\n')}\n`;
}

export const demoCommand: Command = {
  path: ['demo'],
  summary: 'Calibrate, plan and evaluate ShortV on the bundled model (the main job)',
  usage: USAGE,
  options: {
    ...MODEL_OPTIONS,
    out: { type: 'string' },
    'calibration-samples': { type: 'string' },
    'eval-samples': { type: 'string' },
    'ablation-samples': { type: 'string' },
    'no-ablation': { type: 'boolean' },
    'no-peers': { type: 'boolean' },
    'vtw-eta': { type: 'string' },
    'no-sweep': { type: 'boolean' },
    'no-multi-token': { type: 'boolean' },
    'sweep-samples': { type: 'string' },
    layers: { type: 'string' },
    flops: { type: 'string' },
    seed: { type: 'string' },
  },
  optionHelp: {
    ...MODEL_OPTION_HELP,
    out: {
      value: 'DIR',
      description: 'folder for lc.json, plan.json, report.html and report.json',
      default: 'shortv-out',
    },
    'calibration-samples': { value: 'N', description: 'questions LC is measured on', default: '40' },
    'eval-samples': {
      value: 'N',
      description: 'held-out questions dense and ShortV are scored on',
      default: '240',
    },
    'ablation-samples': {
      value: 'N',
      description: 'questions of the layer-choice ablation (LC-chosen vs random vs first/last)',
      default: '120',
    },
    'no-ablation': { description: 'skip the layer-choice ablation' },
    'no-peers': { description: 'skip the peer table (FastV, VTW, ShortV + FastV)' },
    'vtw-eta': {
      value: 'X',
      description: "VTW's KL bound for its layer search on the calibration samples",
      default: '1',
    },
    'no-sweep': { description: 'skip the N-sweep (N = 0..L by LC, random, first and last N)' },
    'no-multi-token': {
      description: 'skip the multi-token calibration (descriptions included) and its description comparison',
    },
    'sweep-samples': { value: 'N', description: 'single-answer questions of the N-sweep', default: '120' },
    layers: { value: 'N', description: 'freeze the N lowest-LC layers', default: '60% of the layers' },
    flops: { value: 'RATIO', description: 'freeze layers until prefill FLOPs reach RATIO of dense' },
    seed: { value: 'S', description: 'seed of the data and of the random ablation arm', default: '0' },
  },
  async run(ctx) {
    rejectPositionals(ctx, USAGE);
    const started = performance.now();
    const outDir = resolve(stringFlag(ctx, 'out') ?? 'shortv-out');
    const calibrationSamples = integerFlag(ctx, 'calibration-samples', 1, 10_000, 40);
    const evalSamples = integerFlag(ctx, 'eval-samples', 1, 100_000, 240);
    const ablationSamples =
      ctx.values['no-ablation'] === true ? 0 : integerFlag(ctx, 'ablation-samples', 0, 100_000, 120);
    const seed = integerFlag(ctx, 'seed', 0, 2 ** 32 - 1, 0);
    if (stringFlag(ctx, 'layers') !== undefined && stringFlag(ctx, 'flops') !== undefined) {
      throw new UsageError('give at most one of --layers N and --flops RATIO');
    }
    const flopsTarget = numberFlag(ctx, 'flops', { min: 0, max: 1, exclusiveMin: true });
    await checkOutputFolder(outDir);
    const modelDir = await resolveModelDir(ctx);
    const abort = abortOnSigint();
    const data = await demoData({ calibrationSamples, testSamples: evalSamples, seed });
    const engine = await loadEngine(ctx, modelDir, null);
    let planned: VlmEngine | undefined;
    try {
      const L = engine.config.text.numLayers;
      const layers = stringFlag(ctx, 'layers') !== undefined ? integerFlag(ctx, 'layers', 0, L) : undefined;
      const calBar = new ProgressBar(ctx.io, 'calibrating', !ctx.json);
      const lc = await layerContribution(engine, data.calibration, {
        seed,
        dataset: 'shapes calibration split',
        createdWith: `shortv ${CLI_VERSION}`,
        signal: abort.signal,
        onProgress: (p) =>
          calBar.update(p.sample + (p.layer === null ? 0 : (p.layer + 1) / p.layers), p.samples),
      });
      calBar.done(`${lc.samples} samples, ${lc.seconds.toFixed(1)} s`);
      const model = { numLayers: L, fingerprint: engine.fingerprint };
      const plan =
        flopsTarget !== undefined
          ? selectByFlops(lc, flopsTarget, lc.dims, lc.tokens, { model })
          : selectByCount(lc, layers, { model });
      const frozen = plan.layers.map((l) => l.index);

      const denseBar = new ProgressBar(ctx.io, 'eval dense', !ctx.json);
      const dense = await evalOnPlan(engine, null, data.test, 'dense', denseBar, abort.signal);
      denseBar.done(formatPercent(dense.accuracy ?? 0));
      const shortvBar = new ProgressBar(ctx.io, 'eval ShortV', !ctx.json);
      const shortv = await evalOnPlan(engine, plan, data.test, 'shortv', shortvBar, abort.signal);
      shortvBar.done(formatPercent(shortv.accuracy ?? 0));

      // Prefill time compared in one interleaved run (dense, ShortV, dense, ...) on the same samples.
      planned = await loadEngine(ctx, modelDir, plan);
      await engine.setPlan(null);
      const timeBar = new ProgressBar(ctx.io, 'timing', !ctx.json);
      const timing = await measurePrefill({ dense: engine, planned }, data.test.slice(0, 40), {
        repeats: 3,
        warmup: 1,
        signal: abort.signal,
        onProgress: (done, total) => timeBar.update(done, total),
      });
      timeBar.done(`ShortV/dense prefill ${timing.ratio.ratioOfMedians.toFixed(3)}`);

      const multiToken =
        ctx.values['no-multi-token'] === true
          ? undefined
          : await calibrationChoice(ctx, engine, {
              lc,
              plan,
              dense,
              shortv,
              calibration: data.calibrationMultiToken,
              test: data.test,
              seed,
              signal: abort.signal,
            });

      const singleAnswer = data.test.filter((s) => s.family !== 'describe').slice(0, ablationSamples);
      const ablation =
        ablationSamples > 0
          ? await layerChoiceAblation(ctx, engine, plan, singleAnswer, seed, abort.signal)
          : undefined;

      const peers =
        ctx.values['no-peers'] === true
          ? undefined
          : await peerComparison(ctx, {
              engine,
              modelDir,
              shortvPlan: plan,
              calibration: data.calibration,
              test: data.test,
              dense,
              shortv,
              eta: numberFlag(ctx, 'vtw-eta', { min: 0, max: Number.MAX_VALUE }, 1)!,
              timingSamples: 20,
              maxNewTokens: MAX_ANSWER_TOKENS,
              signal: abort.signal,
            });
      const sweepSamples = integerFlag(ctx, 'sweep-samples', 1, 100_000, 120);
      const sweep =
        ctx.values['no-sweep'] === true
          ? undefined
          : await runSweep(
              ctx,
              { dense: engine, planned },
              lc,
              data.test.filter((s) => s.family !== 'describe').slice(0, sweepSamples),
              { seed, timingSamples: 8, signal: abort.signal },
            );

      const report: DemoReport = {
        model: stringFlag(ctx, 'model') ?? MODEL_SHAPES_ID,
        fingerprint: engine.fingerprint,
        numLayers: L,
        lc: { visual: lc.visual, text: lc.text, metric: lc.metric },
        plan: { frozen, flopsRatio: plan.estimate?.flopsRatio ?? shortv.flops.ratio },
        calibration: {
          samples: lc.samples,
          seconds: lc.seconds,
          dataset: lc.calibration.dataset,
          seed,
          createdWith: lc.calibration.createdWith,
        },
        eval: reportEvalSection(dense, shortv),
        timing,
        ...(ablation ? { ablation } : {}),
        ...(multiToken ? { calibrationChoice: multiToken.choice } : {}),
        ...(peers ? { peers: peers.rows } : {}),
        ...(sweep ? { sweep } : {}),
        createdAt: new Date().toISOString(),
      };
      await writeFileAtomic(join(outDir, 'lc.json'), serializeLc(lc));
      await writeFileAtomic(join(outDir, 'plan.json'), serializePlan(plan));
      if (multiToken) await writeFileAtomic(join(outDir, 'lc-multi-token.json'), serializeLc(multiToken.lc));
      await writeFileAtomic(join(outDir, 'report.html'), renderHtmlReport(report));
      await writeFileAtomic(join(outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
      const seconds = (performance.now() - started) / 1000;
      if (ctx.json) {
        ctx.io.stdout(`${JSON.stringify({ ...report, seconds, outDir })}\n`);
        return 0;
      }
      ctx.io.stdout(
        `\nLayer Contribution per layer (visual vs text, log scale; * = frozen by the plan, ${frozen.length}/${L} layers, in LC order ${rankLayers(lc).slice(0, frozen.length).join(',')})\n`,
      );
      ctx.io.stdout(renderTerminalLcChart(lc, frozen, { color: ctx.io.interactive }));
      ctx.io.stdout(summaryTable(report));
      if (peers)
        ctx.io.stdout(`\nPeer methods on the same ${report.eval.samples} questions\n${peerText(peers.rows)}`);
      if (sweep) ctx.io.stdout(`\nN-sweep\n${sweepText(sweep)}`);
      ctx.io.stdout(
        `\nwrote ${join(outDir, 'plan.json')}, ${join(outDir, 'report.html')} in ${seconds.toFixed(1)} s\n`,
      );
      return 0;
    } finally {
      abort.dispose();
      await data.dispose();
      await engine.dispose();
      await planned?.dispose();
    }
  },
};
