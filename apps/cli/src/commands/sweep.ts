import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  type EvalSample,
  escapeHtml,
  formatPercent,
  htmlTable,
  markdownTable,
  type SweepSection,
  sweepChartSvg,
  sweepCostNote,
  sweepTable,
} from '@shortv/eval';
import { checkLcScores, parseLc } from '@shortv/lc';
import { createRandom, type VlmEngine } from '@shortv/runtime-core';
import { ShortvError } from '@shortv/tensor';
import type { Command } from '../command.ts';
import { DATA_FORMATS, imageLoader, readDataset } from '../data.ts';
import { checkOutputFolder, writeFileAtomic } from '../files.ts';
import { integerFlag, rejectPositionals, requiredStringFlag, stringFlag } from '../flags.ts';
import { loadEngine, MODEL_OPTION_HELP, MODEL_OPTIONS, resolveModelDir } from '../model.ts';
import { abortOnSigint } from '../signals.ts';
import { runSweep } from './sweep-run.ts';

const USAGE =
  'shortv sweep --lc lc.json --data PATH [--samples 120] [--seed 0] [--timing-samples 8] [--out shortv-sweep] [--model DIR] [--json]';

/** Single-answer questions (free-text descriptions left out), a seeded pick of `count`, in file order. */
function sweepSamples(path: string, count: number, seed: number): EvalSample[] {
  const records = readDataset(path).filter((r) => r.family !== 'describe');
  const random = createRandom(seed);
  const order = records.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const load = imageLoader();
  return order
    .slice(0, count)
    .sort((a, b) => a - b)
    .map((i) => {
      const r = records[i]!;
      return { ...r, loadImage: () => load(r.imagePath) };
    });
}

export function sweepText(sweep: SweepSection): string {
  const table = sweepTable(sweep);
  const widths = table.headers.map((h, c) => Math.max(h.length, ...table.rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padStart(widths[c]!)).join('  ');
  return `${[line(table.headers), ...table.rows.map(line), '', sweepCostNote(sweep)].join('\n')}\n`;
}

export const sweepCommand: Command = {
  path: ['sweep'],
  summary: 'Accuracy, FLOPs and prefill for N = 0..L frozen layers: LC vs random vs first vs last',
  usage: USAGE,
  options: {
    ...MODEL_OPTIONS,
    lc: { type: 'string' },
    data: { type: 'string' },
    samples: { type: 'string' },
    seed: { type: 'string' },
    'timing-samples': { type: 'string' },
    out: { type: 'string' },
  },
  optionHelp: {
    ...MODEL_OPTION_HELP,
    lc: { value: 'FILE', description: 'LC scores from `shortv calibrate` (the LC rule)' },
    data: { value: 'PATH', description: `held-out questions: ${DATA_FORMATS}` },
    samples: { value: 'N', description: 'single-answer questions scored at every N', default: '120' },
    seed: {
      value: 'S',
      description: 'seed of the question pick and of the random layer orders',
      default: '0',
    },
    'timing-samples': { value: 'N', description: 'questions of the prefill timing at each N', default: '8' },
    out: {
      value: 'DIR',
      description: 'folder for sweep.json, sweep.md and sweep.html',
      default: 'shortv-sweep',
    },
  },
  notes:
    'Accuracy is read on one layer-by-layer pass per question with the reference answer fed back: a question ' +
    'counts as right when every answer token is the greedy choice. Layer sets that agree below a layer share ' +
    'the runs of the layers beneath it; the output says how many layer runs that took against one full pass per set.',
  async run(ctx) {
    rejectPositionals(ctx, USAGE);
    const lcPath = requiredStringFlag(ctx, 'lc', USAGE);
    const data = requiredStringFlag(ctx, 'data', USAGE);
    const count = integerFlag(ctx, 'samples', 1, 1_000_000, 120);
    const seed = integerFlag(ctx, 'seed', 0, 2 ** 32 - 1, 0);
    const timingSamples = integerFlag(ctx, 'timing-samples', 1, 10_000, 8);
    const outDir = resolve(stringFlag(ctx, 'out') ?? 'shortv-sweep');
    await checkOutputFolder(outDir);
    const lcText = await readFile(lcPath, 'utf8').catch(() => {
      throw new ShortvError(
        'E_INPUT_NOT_FOUND',
        `LC file ${lcPath} does not exist: run \`shortv calibrate\` first`,
      );
    });
    const lc = parseLc(lcText);
    const samples = sweepSamples(data, count, seed);
    if (samples.length === 0) throw new ShortvError('E_DATA_EMPTY', `${data} has no single-answer questions`);
    const modelDir = await resolveModelDir(ctx);
    const abort = abortOnSigint();
    const engines: VlmEngine[] = [];
    try {
      const dense = await loadEngine(ctx, modelDir, null);
      engines.push(dense);
      checkLcScores(lc, { numLayers: dense.config.text.numLayers, fingerprint: dense.fingerprint });
      const planned = await loadEngine(ctx, modelDir, null);
      engines.push(planned);
      const sweep = await runSweep(ctx, { dense, planned }, lc, samples, {
        seed,
        timingSamples,
        signal: abort.signal,
      });
      const title = `N-sweep on ${samples.length} questions`;
      const md = `# ${title}\n\n${markdownTable(sweepTable(sweep))}\n\n${sweepCostNote(sweep)}\n`;
      const html = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        `<title>${escapeHtml(title)}</title>`,
        '<style>body{font:14px/1.45 system-ui,sans-serif;max-width:1000px;margin:24px auto;padding:0 16px}' +
          'table{border-collapse:collapse}th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}' +
          'svg{display:block;max-width:100%;height:auto;font-size:11px}</style></head><body>',
        `<h1>${escapeHtml(title)}</h1>`,
        sweepChartSvg(sweep),
        htmlTable(sweepTable(sweep)),
        `<p>${escapeHtml(sweepCostNote(sweep))}</p>`,
        '</body></html>',
        '',
      ].join('\n');
      await writeFileAtomic(join(outDir, 'sweep.json'), `${JSON.stringify(sweep, null, 2)}\n`);
      await writeFileAtomic(join(outDir, 'sweep.md'), md);
      await writeFileAtomic(join(outDir, 'sweep.html'), html);
      if (ctx.json) ctx.io.stdout(`${JSON.stringify({ ...sweep, outDir })}\n`);
      else {
        ctx.io.stdout(`\n${sweepText(sweep)}`);
        const lcAt = sweep.rules[0]!.accuracy;
        ctx.io.stdout(
          `\nLC at N = ${Math.round(0.6 * sweep.numLayers)}: ${formatPercent(lcAt[Math.round(0.6 * sweep.numLayers)])}; wrote ${join(outDir, 'sweep.html')}\n`,
        );
      }
      return 0;
    } finally {
      abort.dispose();
      for (const e of engines) await e.dispose();
    }
  },
};
