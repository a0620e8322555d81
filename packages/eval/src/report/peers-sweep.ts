import { escapeHtml, formatMs, formatPercent, formatRatio, MISSING } from './format.ts';

/** One row of the peer-method table: a method's accuracy and cost on the same questions as dense. */
export interface PeerRow {
  /** e.g. `FastV (K=2, R=50%)`. */
  label: string;
  accuracy: number | null;
  /** Decoder prefill FLOPs over dense. */
  flopsRatio: number;
  /** Median prefill in the interleaved timing. */
  prefillMs: number;
  /** prefillMs over dense's. */
  prefillRatio: number;
  frozen: number[];
  prune: { afterLayer: number; keep: number } | null;
  withdraw: { fromLayer: number } | null;
}

/** The N-sweep: accuracy per number of frozen layers for several layer-choice rules, with its cost. */
export interface SweepSection {
  samples: number;
  numLayers: number;
  rules: { label: string; accuracy: number[] }[];
  /** Per N = 0..L: FLOPs ratio (the same for every choice of N layers) and measured prefill ratio. */
  flopsRatio: number[];
  prefillRatio: (number | null)[];
  /** How accuracy was read, and what the sweep cost. */
  method: string;
  cost: { sets: number; layerRunsPerSample: number; naiveLayerRunsPerSample: number };
}

const LINE_COLORS = ['#2f62c9', '#d9822b', '#3c9a5f', '#b03a48', '#7a5cc2', '#555'];

export function peersTable(rows: readonly PeerRow[]): { headers: string[]; rows: string[][] } {
  return {
    headers: ['method', 'accuracy', 'prefill FLOPs', 'prefill (median)', 'prefill vs dense'],
    rows: rows.map((r) => [
      r.label,
      formatPercent(r.accuracy),
      formatPercent(r.flopsRatio),
      formatMs(r.prefillMs),
      formatRatio(r.prefillRatio),
    ]),
  };
}

export function sweepTable(sweep: SweepSection): { headers: string[]; rows: string[][] } {
  return {
    headers: ['N', ...sweep.rules.map((r) => r.label), 'FLOPs', 'prefill vs dense'],
    rows: Array.from({ length: sweep.numLayers + 1 }, (_, n) => [
      String(n),
      ...sweep.rules.map((r) => formatPercent(r.accuracy[n])),
      formatPercent(sweep.flopsRatio[n]),
      sweep.prefillRatio[n] === null ? MISSING : formatRatio(sweep.prefillRatio[n]),
    ]),
  };
}

export function sweepCostNote(sweep: SweepSection): string {
  const c = sweep.cost;
  return (
    `${sweep.method} ${sweep.samples} samples; ${c.sets} distinct layer sets cost ` +
    `${c.layerRunsPerSample.toFixed(1)} decoder-layer runs per sample instead of ${c.naiveLayerRunsPerSample} ` +
    `(one full pass per set), ${formatRatio(c.layerRunsPerSample / c.naiveLayerRunsPerSample)} of it.`
  );
}

export function markdownTable(table: { headers: string[]; rows: string[][] }): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  return [
    `| ${table.headers.map(cell).join(' | ')} |`,
    `| ${table.headers.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...table.rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

export function htmlTable(table: { headers: string[]; rows: string[][] }): string {
  return (
    `<table><thead><tr>${table.headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>` +
    table.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('') +
    '</tbody></table>'
  );
}

/** Accuracy against prefill FLOPs ratio, one line per rule (points at N = 0..L), as inline SVG. */
export function sweepChartSvg(sweep: SweepSection): string {
  const left = 52;
  const top = 20;
  const plotWidth = 460;
  const plotHeight = 240;
  const width = left + plotWidth + 190;
  const height = top + plotHeight + 44;
  const minX = Math.min(...sweep.flopsRatio.filter(Number.isFinite), 1);
  const x = (v: number) => left + ((v - minX) / Math.max(1e-9, 1 - minX)) * plotWidth;
  const y = (v: number) => top + (1 - v) * plotHeight;
  const f = (n: number) => (Math.round(n * 10) / 10).toString();
  const parts = [
    `<svg class="chart sweep-chart" role="img" aria-labelledby="sweep-chart-title" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">`,
    '<title id="sweep-chart-title">Accuracy against prefill FLOPs ratio for N = 0..L frozen layers, one line per layer-choice rule</title>',
    `<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotHeight}" stroke="#555"/>`,
    `<line x1="${left}" x2="${left + plotWidth}" y1="${top + plotHeight}" y2="${top + plotHeight}" stroke="#555"/>`,
  ];
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(
      `<line x1="${left}" x2="${left + plotWidth}" y1="${f(y(tick))}" y2="${f(y(tick))}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${f(y(tick))}" dy="0.32em" text-anchor="end">${(tick * 100).toFixed(0)}%</text>`,
    );
  }
  for (const tick of [minX, (minX + 1) / 2, 1]) {
    parts.push(
      `<text x="${f(x(tick))}" y="${top + plotHeight + 16}" text-anchor="middle">${formatRatio(tick)}</text>`,
    );
  }
  parts.push(
    `<text x="${left + plotWidth / 2}" y="${height - 6}" text-anchor="middle">prefill FLOPs / dense</text>`,
  );
  sweep.rules.forEach((rule, i) => {
    const color = LINE_COLORS[i % LINE_COLORS.length]!;
    const points = rule.accuracy.map((a, n) => `${f(x(sweep.flopsRatio[n]!))},${f(y(a))}`);
    parts.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.join(' ')}"/>`,
      ...rule.accuracy.map(
        (a, n) => `<circle cx="${f(x(sweep.flopsRatio[n]!))}" cy="${f(y(a))}" r="2.5" fill="${color}"/>`,
      ),
      `<rect x="${left + plotWidth + 16}" y="${top + i * 18}" width="10" height="10" fill="${color}"/>`,
      `<text x="${left + plotWidth + 30}" y="${top + i * 18 + 9}">${escapeHtml(rule.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}
