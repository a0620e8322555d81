import {
  escapeHtml,
  formatLc,
  formatMs,
  formatPercent,
  formatRatio,
  formatSeconds,
  MISSING,
} from './format.ts';
import { htmlTable, peersTable, sweepChartSvg, sweepCostNote, sweepTable } from './peers-sweep.ts';
import {
  accuracyRows,
  calibrationChoiceVerdict,
  checkReport,
  costRows,
  familiesOf,
  sortedLayers,
} from './rows.ts';
import { costChartSvg, lcChartSvg } from './svg.ts';
import type { DemoReport } from './types.ts';

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#222;max-width:1000px;margin:24px auto;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.sub{color:#666;margin:0}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}thead th{background:#f4f4f4}
tr.frozen td{background:#eef3fb}
svg{display:block;max-width:100%;height:auto;font-size:11px}svg text{fill:#333}
svg .frozen-mark{fill:#2f62c9;font-size:13px}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 16px}dt{color:#666}dd{margin:0}
.note{color:#666;font-size:12px}
`;

/**
 * One self-contained HTML page (inline CSS and SVG; no scripts, no external resources) with the LC chart,
 * the accuracy table, the cost ratios and the calibration provenance of a demo run.
 */
export function renderHtmlReport(report: DemoReport): string {
  checkReport(report);
  const title = `ShortV report: ${report.model}`;
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<header>',
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="sub">${report.numLayers} decoder layers; visual tokens frozen in ${report.plan.frozen.length}: ` +
      `${escapeHtml(sortedLayers(report.plan.frozen).join(', ') || 'none')}${report.createdAt ? `; ${escapeHtml(report.createdAt)}` : ''}</p>`,
    '</header>',
    lcSection(report),
    accuracySection(report),
    costSection(report),
    peerAndSweepSection(report),
    calibrationSection(report),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function lcSection(report: DemoReport): string {
  const frozen = new Set(report.plan.frozen);
  const rows = report.lc.visual.map(
    (v, layer) =>
      `<tr${frozen.has(layer) ? ' class="frozen"' : ''}><td>${layer}</td><td>${formatLc(v)}</td>` +
      `<td>${formatLc(report.lc.text[layer]!)}</td><td>${frozen.has(layer) ? 'frozen' : ''}</td></tr>`,
  );
  return [
    '<section id="lc">',
    '<h2>Layer Contribution per layer</h2>',
    `<p class="note">LC = ${escapeHtml(report.lc.metric ?? "KL divergence of the first answer token distribution when the layer's updates of that token group are zeroed")}; log scale. ` +
      'Layers with the lowest visual LC have their visual tokens frozen.</p>',
    lcChartSvg(report.lc, report.plan.frozen),
    '<details><summary>LC values</summary>',
    '<table><thead><tr><th>layer</th><th>visual LC</th><th>text LC</th><th>plan</th></tr></thead>',
    `<tbody>${rows.join('')}</tbody></table>`,
    '</details>',
    '</section>',
  ].join('\n');
}

function accuracySection(report: DemoReport): string {
  const families = familiesOf(report);
  const perFamily = report.eval.perFamily ?? {};
  const head = [
    'run',
    'overall',
    ...families.map((f) => `${f}${perFamily[f] ? ` (n=${perFamily[f].samples})` : ''}`),
  ];
  const rows = accuracyRows(report).map(
    (row) =>
      `<tr><td>${escapeHtml(row.label)}</td><td>${formatPercent(row.accuracy)}</td>` +
      families.map((f) => `<td>${formatPercent(row.perFamily[f])}</td>`).join('') +
      '</tr>',
  );
  const notes: string[] = [
    `${report.eval.samples} held-out samples; overall accuracy is exact match over single-answer questions (describe excluded).`,
  ];
  if (report.eval.agreement !== undefined) {
    notes.push(
      `ShortV gives the same normalised answer as dense on ${formatPercent(report.eval.agreement)} of samples.`,
    );
  }
  const { dense, shortv } = report.eval;
  if (dense.accuracy !== null && shortv.accuracy !== null && dense.accuracy > 0) {
    notes.push(`Relative accuracy (ShortV / dense): ${formatRatio(shortv.accuracy / dense.accuracy)}.`);
  }
  const d = report.eval.description;
  const description = d
    ? [
        `<h3>Descriptions (${d.samples} samples)</h3>`,
        '<table><thead><tr><th>run</th><th>exact match</th><th>token F1</th></tr></thead><tbody>',
        `<tr><td>Dense</td><td>${formatPercent(d.dense.exactMatch)}</td><td>${formatRatio(d.dense.f1)}</td></tr>`,
        `<tr><td>ShortV</td><td>${formatPercent(d.shortv.exactMatch)}</td><td>${formatRatio(d.shortv.f1)}</td></tr>`,
        '</tbody></table>',
      ].join('\n')
    : '';
  const choice = report.calibrationChoice;
  const calibrationChoice = choice
    ? [
        `<h3>Descriptions by calibration (${choice.layers} frozen layers, ${choice.samples} samples)</h3>`,
        '<table><thead><tr><th>calibration</th><th>frozen layers</th><th>exact match</th><th>token F1</th></tr></thead><tbody>',
        `<tr><td>Dense</td><td></td><td>${formatPercent(choice.dense.exactMatch)}</td><td>${formatRatio(choice.dense.f1)}</td></tr>`,
        ...choice.arms.map(
          (a) =>
            `<tr><td>${escapeHtml(a.calibration)} (${escapeHtml(a.metric)})</td><td>${a.frozen.join(', ')}</td><td>${formatPercent(a.exactMatch)}</td><td>${formatRatio(a.f1)}</td></tr>`,
        ),
        '</tbody></table>',
        `<p class="note">${escapeHtml(calibrationChoiceVerdict(choice))}</p>`,
      ].join('\n')
    : '';
  return [
    '<section id="accuracy">',
    '<h2>Accuracy</h2>',
    `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>`,
    `<tbody>${rows.join('')}</tbody></table>`,
    ...notes.map((n) => `<p class="note">${escapeHtml(n)}</p>`),
    description,
    calibrationChoice,
    '</section>',
  ].join('\n');
}

function costSection(report: DemoReport): string {
  const rows = costRows(report);
  const timing = report.timing;
  return [
    '<section id="cost">',
    '<h2>Cost relative to dense</h2>',
    costChartSvg(rows.map((r) => ({ label: r.label, value: r.value }))),
    '<table><thead><tr><th>measure</th><th>ShortV / dense</th><th>how</th></tr></thead><tbody>',
    ...rows.map(
      (r) =>
        `<tr><td>${escapeHtml(r.label)}</td><td>${formatRatio(r.value)}</td><td>${escapeHtml(r.note)}</td></tr>`,
    ),
    '</tbody></table>',
    '<table><thead><tr><th>median prefill</th><th>dense</th><th>ShortV</th></tr></thead><tbody>',
    `<tr><td>eval runs</td><td>${formatMs(report.eval.dense.prefillMs)}</td><td>${formatMs(report.eval.shortv.prefillMs)}</td></tr>`,
    timing
      ? `<tr><td>interleaved timing</td><td>${formatMs(timing.dense.medianMs)}</td><td>${formatMs(timing.planned.medianMs)}</td></tr>`
      : '',
    '</tbody></table>',
    timing
      ? `<p class="note">Timing: ${timing.warmup} warm-up pair(s), then dense and ShortV alternate on each sample (${timing.repeats} pairs).</p>`
      : '',
    '</section>',
  ].join('\n');
}

function calibrationSection(report: DemoReport): string {
  const c = report.calibration;
  const entries: Array<[string, string]> = [
    ['model', report.model],
    ['fingerprint', report.fingerprint ?? MISSING],
    ['calibration samples', String(c.samples)],
    ['calibration time', formatSeconds(c.seconds)],
    ['dataset', c.dataset ?? MISSING],
    ['seed', c.seed === undefined ? MISSING : String(c.seed)],
    ['LC metric', report.lc.metric ?? MISSING],
    ['created with', c.createdWith ?? MISSING],
  ];
  return [
    '<section id="calibration">',
    '<h2>Calibration provenance</h2>',
    `<dl>${entries.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>`,
    '</section>',
  ].join('\n');
}

function peerAndSweepSection(report: DemoReport): string {
  const parts: string[] = [];
  if (report.peers) {
    parts.push(
      '<section id="peers">',
      '<h2>Peer methods</h2>',
      htmlTable(peersTable(report.peers)),
      '</section>',
    );
  }
  if (report.sweep) {
    parts.push(
      '<section id="sweep">',
      '<h2>N-sweep: accuracy against FLOPs by layer-choice rule</h2>',
      sweepChartSvg(report.sweep),
      htmlTable(sweepTable(report.sweep)),
      `<p class="note">${escapeHtml(sweepCostNote(report.sweep))}</p>`,
      '</section>',
    );
  }
  return parts.join('\n');
}
