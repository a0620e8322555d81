import { basename, join, resolve } from 'node:path';
import {
  BENCHMARK_FORMATS,
  type BenchmarkFormat,
  type BenchmarkReport,
  type BenchmarkRun,
  type EvalSample,
  evaluate,
  formatMs,
  formatPercent,
  measurePrefillArms,
  renderBenchmarkHtml,
  renderBenchmarkMarkdown,
  scoreBenchmark,
} from '@shortv/eval';
import { MODEL_SHAPES_ID } from '@shortv/model-shapes';
import type { FreezePlan } from '@shortv/plan';
import { createRandom, type VlmEngine } from '@shortv/runtime-core';
import { ShortvError } from '@shortv/tensor';
import { type ResolvedItem, readBenchmark } from '../benchmark-data.ts';
import type { Command, CommandContext } from '../command.ts';
import { imageLoader } from '../data.ts';
import { UsageError } from '../errors.ts';
import { checkOutputFolder, writeFileAtomic } from '../files.ts';
import { integerFlag, rejectPositionals, requiredStringFlag, stringFlag } from '../flags.ts';
import { loadEngine, MODEL_OPTION_HELP, MODEL_OPTIONS, readPlanFile, resolveModelDir } from '../model.ts';
import { ProgressBar } from '../progress.ts';
import { abortOnSigint } from '../signals.ts';

const USAGE =
  'shortv eval --data DIR|FILE [--format shapes|pope|vqa|gqa|mme] [--dense] [--plan FILE ...] ' +
  '[--limit N] [--seed S] [--on-error skip|fail] [--out DIR] [--timing-samples 20] [--model DIR] [--json]';

interface Arm {
  label: string;
  plan: FreezePlan | null;
  file: string | null;
}

/** A seeded subset of `limit` items, kept in file order. */
function pick(items: readonly ResolvedItem[], limit: number | undefined, seed: number): ResolvedItem[] {
  if (limit === undefined || limit >= items.length) return [...items];
  const random = createRandom(seed);
  const order = items.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order
    .slice(0, limit)
    .sort((a, b) => a - b)
    .map((i) => items[i]!);
}

function planLabel(plan: FreezePlan, file: string): string {
  const parts: string[] = [];
  if (plan.layers.length > 0) parts.push(`ShortV ${plan.layers.length}`);
  if (plan.prune)
    parts.push(`FastV K=${plan.prune.afterLayer + 1} R=${Math.round((1 - plan.prune.keep) * 100)}%`);
  if (plan.withdraw) parts.push(`VTW K=${plan.withdraw.fromLayer}`);
  return `${basename(file)} (${parts.join(' + ') || 'dense'})`;
}

function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

function textTable(report: BenchmarkReport): string {
  const lines = [
    '',
    `${'run'.padEnd(40)} ${report.runs[0]!.score.metric.padStart(13)}  FLOPs   prefill med/p90        tok/s  peak RSS`,
  ];
  for (const r of report.runs) {
    const head = r.score.format === 'mme' ? r.score.overall.toFixed(1) : formatPercent(r.score.overall);
    lines.push(
      `${r.label.padEnd(40)} ${head.padStart(13)}  ${formatPercent(r.flopsRatio).padStart(6)}  ${formatMs(r.prefill.medianMs)} / ${formatMs(r.prefill.p90Ms)}  ${r.decodeTokensPerSecond.toFixed(1).padStart(6)}  ${r.peakRssMb.toFixed(0)} MB`,
    );
  }
  const categories = Object.keys(report.runs[0]!.score.perCategory);
  lines.push(
    '',
    `${'category'.padEnd(18)} ${report.runs.map((r) => r.label.slice(0, 14).padStart(14)).join(' ')}`,
  );
  for (const c of categories) {
    lines.push(
      `${c.padEnd(18)} ${report.runs.map((r) => formatPercent(r.score.perCategory[c]?.score).padStart(14)).join(' ')}`,
    );
  }
  if (report.skipped.length > 0) lines.push('', `skipped ${report.skipped.length} line(s): see the report`);
  return `${lines.join('\n')}\n`;
}

async function scoreArm(
  ctx: CommandContext,
  engine: VlmEngine,
  arm: Arm,
  format: BenchmarkFormat,
  items: readonly ResolvedItem[],
  samples: readonly EvalSample[],
  signal: AbortSignal,
): Promise<Omit<BenchmarkRun, 'prefill'>> {
  await engine.setPlan(arm.plan);
  const bar = new ProgressBar(ctx.io, `eval ${arm.label.slice(0, 24)}`, !ctx.json);
  const run = await evaluate(engine, samples, {
    label: arm.label,
    maxNewTokens: format === 'shapes' ? 64 : 16,
    freeTextFamilies: [],
    signal,
    onProgress: (done, total) => bar.update(done, total),
  });
  const predictions = new Map(run.predictions.map((p) => [p.id, p.prediction]));
  const { itemScores: _, ...score } = scoreBenchmark(format, items, predictions);
  bar.done(format === 'mme' ? score.overall.toFixed(1) : formatPercent(score.overall));
  return {
    label: arm.label,
    plan: arm.plan && {
      file: arm.file!,
      frozen: arm.plan.layers.map((l) => l.index),
      prune: arm.plan.prune,
      withdraw: arm.plan.withdraw,
    },
    score,
    flopsRatio: run.flops.ratio,
    decodeTokensPerSecond: run.decodeTokensPerSecond ?? 0,
    peakRssMb: peakRssMb(),
    predictions: Object.fromEntries(predictions),
  };
}

export const evalCommand: Command = {
  path: ['eval'],
  summary: 'Score dense and planned runs on a benchmark (shapes, POPE, VQAv2/TextVQA, GQA, MME)',
  usage: USAGE,
  options: {
    ...MODEL_OPTIONS,
    data: { type: 'string' },
    format: { type: 'string' },
    dense: { type: 'boolean' },
    plan: { type: 'string', multiple: true },
    limit: { type: 'string' },
    seed: { type: 'string' },
    'on-error': { type: 'string' },
    out: { type: 'string' },
    'timing-samples': { type: 'string' },
  },
  optionHelp: {
    ...MODEL_OPTION_HELP,
    data: { value: 'DIR|FILE', description: 'benchmark file or folder' },
    format: {
      value: 'NAME',
      description: `layout of --data: ${BENCHMARK_FORMATS.join(' | ')}`,
      default: 'guessed from the files',
    },
    dense: { description: 'include the dense model (the reference for prefill ratios)' },
    plan: { value: 'FILE', description: 'a plan to compare (repeatable): ShortV, FastV, VTW or combined' },
    limit: { value: 'N', description: 'score a seeded random subset of N questions', default: 'all' },
    seed: { value: 'S', description: 'seed of --limit', default: '0' },
    'on-error': {
      value: 'skip|fail',
      description: 'on a malformed line or missing image: stop, or leave it out and list it in the report',
      default: 'fail',
    },
    out: {
      value: 'DIR',
      description: 'folder for report.json, report.md and report.html',
      default: 'shortv-eval',
    },
    'timing-samples': {
      value: 'N',
      description: 'questions of the interleaved prefill timing',
      default: '20',
    },
  },
  notes:
    'Layouts: shapes (a `shortv dataset shapes` folder or {image, question, answer} JSONL), POPE JSONL ' +
    '({image, text, label}), VQAv2 questions + annotations JSON or TextVQA JSON (soft accuracy), GQA ' +
    'questions JSON (exact match), MME per-category TSV files image<TAB>question<TAB>answer (accuracy, acc+). ' +
    'Images are looked up next to each file, in images/, and by id under the data folder.',
  async run(ctx) {
    rejectPositionals(ctx, USAGE);
    const data = requiredStringFlag(ctx, 'data', USAGE);
    const formatFlag = stringFlag(ctx, 'format');
    if (formatFlag !== undefined && !BENCHMARK_FORMATS.includes(formatFlag as BenchmarkFormat)) {
      throw new UsageError(`--format must be one of ${BENCHMARK_FORMATS.join(', ')}, got "${formatFlag}"`);
    }
    const onError = stringFlag(ctx, 'on-error') ?? 'fail';
    if (onError !== 'skip' && onError !== 'fail') {
      throw new UsageError(`--on-error must be skip or fail, got "${onError}"`);
    }
    const planFiles = (ctx.values.plan as string[] | undefined) ?? [];
    const dense = ctx.values.dense === true;
    if (!dense && planFiles.length === 0) {
      throw new UsageError(`give --dense and/or at least one --plan FILE.\nUsage: ${USAGE}`);
    }
    const limit =
      stringFlag(ctx, 'limit') !== undefined ? integerFlag(ctx, 'limit', 1, 10_000_000) : undefined;
    const seed = integerFlag(ctx, 'seed', 0, 2 ** 32 - 1, 0);
    const timingSamples = integerFlag(ctx, 'timing-samples', 1, 100_000, 20);
    const outDir = resolve(stringFlag(ctx, 'out') ?? 'shortv-eval');
    await checkOutputFolder(outDir);
    const modelDir = await resolveModelDir(ctx);
    const benchmark = readBenchmark(data, formatFlag as BenchmarkFormat | undefined);
    if (benchmark.issues.length > 0) {
      const list = benchmark.issues
        .slice(0, 10)
        .map((i) => `  ${i.file}:${i.line}: ${i.message}`)
        .join('\n');
      const more = benchmark.issues.length > 10 ? `\n  ... and ${benchmark.issues.length - 10} more` : '';
      if (onError === 'fail') {
        throw new ShortvError(
          'E_DATA_ISSUES',
          `${benchmark.issues.length} line(s) of --data cannot be scored:\n${list}${more}\nfix them, or pass --on-error skip to leave them out (they are listed in the report)`,
        );
      }
      if (!ctx.json) ctx.io.stderr(`skipping ${benchmark.issues.length} line(s):\n${list}${more}\n`);
    }
    const items = pick(benchmark.items, limit, seed);
    if (items.length === 0) throw new ShortvError('E_DATA_EMPTY', `${data} has no usable questions`);
    const arms: Arm[] = dense ? [{ label: 'dense', plan: null, file: null }] : [];
    for (const file of planFiles) {
      const plan = await readPlanFile(file);
      arms.push({ label: planLabel(plan, file), plan, file: resolve(file) });
    }
    const load = imageLoader();
    const samples: EvalSample[] = items.map((item) => ({
      id: item.id,
      family: item.category,
      question: item.question,
      answer: item.answers[0]!,
      loadImage: () => load(item.imagePath),
    }));
    const abort = abortOnSigint();
    const engines: VlmEngine[] = [];
    try {
      const engine = await loadEngine(ctx, modelDir, null);
      engines.push(engine);
      const scored: Omit<BenchmarkRun, 'prefill'>[] = [];
      for (const arm of arms) {
        scored.push(await scoreArm(ctx, engine, arm, benchmark.format, items, samples, abort.signal));
      }
      // Timing: one engine per run, interleaved per sample, so every run sees the same machine state.
      await engine.setPlan(arms[0]!.plan);
      for (const arm of arms.slice(1)) engines.push(await loadEngine(ctx, modelDir, arm.plan));
      const timeBar = new ProgressBar(ctx.io, 'timing', !ctx.json);
      const timing = await measurePrefillArms(
        arms.map((arm, i) => ({ label: arm.label, engine: engines[i]! })),
        samples.slice(0, timingSamples),
        { repeats: 3, warmup: 1, signal: abort.signal, onProgress: (d, t) => timeBar.update(d, t) },
      );
      timeBar.done(`${timing.samples} samples x ${timing.repeats}`);
      const runs: BenchmarkRun[] = scored.map((run, i) => ({
        ...run,
        prefill: {
          medianMs: timing.arms[i]!.medianMs,
          p90Ms: timing.arms[i]!.p90Ms,
          ratioToDense: dense ? timing.arms[i]!.ratioToFirst : null,
        },
      }));
      const report: BenchmarkReport = {
        format: benchmark.format,
        data: basename(resolve(data)),
        model: stringFlag(ctx, 'model') ?? MODEL_SHAPES_ID,
        samples: items.length,
        skipped: benchmark.issues,
        runs,
        timing: { samples: timing.samples, repeats: timing.repeats, warmup: timing.warmup },
        seed,
        createdAt: new Date().toISOString(),
      };
      await writeFileAtomic(join(outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
      await writeFileAtomic(join(outDir, 'report.md'), renderBenchmarkMarkdown(report));
      await writeFileAtomic(join(outDir, 'report.html'), renderBenchmarkHtml(report));
      if (ctx.json) {
        const { runs: full, ...rest } = report;
        const slim = full.map(({ predictions: _, ...r }) => r);
        ctx.io.stdout(`${JSON.stringify({ ...rest, runs: slim, outDir })}\n`);
      } else {
        ctx.io.stdout(textTable(report));
        ctx.io.stdout(`\nwrote ${join(outDir, 'report.html')}, report.md and report.json\n`);
      }
      return 0;
    } finally {
      abort.dispose();
      for (const e of engines) await e.dispose();
    }
  },
};
