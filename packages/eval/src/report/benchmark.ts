import type { BenchmarkScore } from '../benchmarks/score.ts';
import type { BenchmarkFormat, BenchmarkIssue } from '../benchmarks/types.ts';
import { escapeHtml, formatMs, formatPercent, formatRatio, MISSING } from './format.ts';
import { costChartSvg } from './svg.ts';

/** One compared configuration of a `shortv eval` run. */
export interface BenchmarkRun {
  label: string;
  /** The plan's file and its layout; null for dense. */
  plan: {
    file: string;
    frozen: number[];
    prune: { afterLayer: number; keep: number } | null;
    withdraw: { fromLayer: number } | null;
  } | null;
  score: Omit<BenchmarkScore, 'itemScores'>;
  /** Decoder prefill FLOPs under the run's plan over dense, summed over the samples. */
  flopsRatio: number;
  /** Interleaved prefill timing of this run (median and p90 over samples of per-sample medians). */
  prefill: { medianMs: number; p90Ms: number; ratioToDense: number | null };
  decodeTokensPerSecond: number;
  /** The process's resident-set high-water mark when this run's scoring pass ended (cumulative over runs). */
  peakRssMb: number;
  /** Per item: the greedy answer. */
  predictions: Record<string, string>;
}

export interface BenchmarkReport {
  format: BenchmarkFormat;
  data: string;
  model: string;
  samples: number;
  /** Lines left out with `--on-error skip` (malformed, or naming a missing image). */
  skipped: BenchmarkIssue[];
  runs: BenchmarkRun[];
  timing: { samples: number; repeats: number; warmup: number };
  seed: number;
  createdAt: string;
}

interface Table {
  title: string;
  headers: string[];
  rows: string[][];
}

function headline(run: BenchmarkRun): string {
  return run.score.format === 'mme' ? run.score.overall.toFixed(1) : formatPercent(run.score.overall);
}

function tables(report: BenchmarkReport): Table[] {
  const runs = report.runs;
  const out: Table[] = [];
  const metric = runs[0]?.score.metric ?? 'score';
  out.push({
    title: 'Accuracy and cost',
    headers: [
      'run',
      metric,
      'prefill FLOPs',
      'prefill median',
      'prefill p90',
      'prefill vs dense',
      'decode tokens/s',
      'peak RSS',
    ],
    rows: runs.map((r) => [
      r.label,
      headline(r),
      formatPercent(r.flopsRatio),
      formatMs(r.prefill.medianMs),
      formatMs(r.prefill.p90Ms),
      formatRatio(r.prefill.ratioToDense),
      r.decodeTokensPerSecond.toFixed(1),
      `${r.peakRssMb.toFixed(0)} MB`,
    ]),
  });
  const categories = [...new Set(runs.flatMap((r) => Object.keys(r.score.perCategory)))].sort();
  out.push({
    title: `Per category (${report.format === 'vqa' ? 'soft accuracy' : 'accuracy'})`,
    headers: ['category', 'samples', ...runs.map((r) => r.label)],
    rows: categories.map((c) => [
      c,
      String(runs[0]?.score.perCategory[c]?.samples ?? 0),
      ...runs.map((r) => formatPercent(r.score.perCategory[c]?.score)),
    ]),
  });
  if (report.format === 'pope') {
    out.push({
      title: 'POPE (positive class: yes)',
      headers: ['run', 'accuracy', 'precision', 'recall', 'F1', 'yes ratio'],
      rows: runs.map((r) => {
        const p = r.score.pope;
        return [
          r.label,
          formatPercent(p?.accuracy),
          formatPercent(p?.precision),
          formatPercent(p?.recall),
          formatPercent(p?.f1),
          formatPercent(p?.yesRatio),
        ];
      }),
    });
  }
  if (report.format === 'mme') {
    const mmeCategories = Object.keys(runs[0]?.score.mme?.perCategory ?? {});
    out.push({
      title: 'MME (score = (accuracy + acc+) x 100)',
      headers: [
        'category',
        ...runs.flatMap((r) => [`${r.label} acc`, `${r.label} acc+`, `${r.label} score`]),
      ],
      rows: mmeCategories.map((c) => [
        c,
        ...runs.flatMap((r) => {
          const m = r.score.mme?.perCategory[c];
          return [
            formatPercent(m?.accuracy),
            formatPercent(m?.accuracyPlus),
            m ? m.score.toFixed(1) : MISSING,
          ];
        }),
      ]),
    });
  }
  if (report.skipped.length > 0) {
    out.push({
      title: `Skipped (${report.skipped.length}, not scored)`,
      headers: ['file', 'line', 'problem'],
      rows: report.skipped.map((s) => [s.file, String(s.line), `${s.kind}: ${s.message}`]),
    });
  }
  return out;
}

function intro(report: BenchmarkReport): string {
  return (
    `${report.samples} ${report.format} questions from ${report.data} on ${report.model}; greedy answers. ` +
    `Prefill timing interleaved over ${report.timing.samples} samples x ${report.timing.repeats} repeats ` +
    `(${report.timing.warmup} warm-up). Peak RSS is the process high-water mark after each run's pass.`
  );
}

/** The eval report as Markdown (tables only). */
export function renderBenchmarkMarkdown(report: BenchmarkReport): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const parts = [`# shortv eval: ${report.format} (${report.data})`, '', intro(report), ''];
  for (const t of tables(report)) {
    parts.push(`## ${t.title}`, '', `| ${t.headers.map(cell).join(' | ')} |`);
    parts.push(`| ${t.headers.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`);
    for (const row of t.rows) parts.push(`| ${row.map(cell).join(' | ')} |`);
    parts.push('');
  }
  return `${parts.join('\n')}`;
}

/** The eval report as one self-contained HTML page (inline CSS and SVG). */
export function renderBenchmarkHtml(report: BenchmarkReport): string {
  const title = `shortv eval: ${report.format} (${report.data})`;
  const body = tables(report).map(
    (t) =>
      `<h2>${escapeHtml(t.title)}</h2><table><thead><tr>${t.headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${t.rows
        .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`)
        .join('')}</tbody></table>`,
  );
  const flops = costChartSvg(report.runs.map((r) => ({ label: `${r.label} FLOPs`, value: r.flopsRatio })));
  const prefill = costChartSvg(
    report.runs
      .filter((r) => r.prefill.ratioToDense !== null)
      .map((r) => ({ label: `${r.label} prefill time`, value: r.prefill.ratioToDense! })),
  );
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    '<style>body{font:14px/1.45 system-ui,sans-serif;color:#222;max-width:1000px;margin:24px auto;padding:0 16px}' +
      'table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}' +
      'th:first-child,td:first-child{text-align:left}thead th{background:#f4f4f4}svg{display:block;max-width:100%;height:auto;font-size:11px}</style>',
    '</head><body>',
    `<h1>${escapeHtml(title)}</h1>`,
    `<p>${escapeHtml(intro(report))}</p>`,
    ...body,
    '<h2>Cost relative to dense</h2>',
    flops,
    prefill,
    '</body></html>',
    '',
  ].join('\n');
}
