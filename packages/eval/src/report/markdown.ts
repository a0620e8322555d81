import { formatLc, formatMs, formatPercent, formatRatio, formatSeconds, MISSING } from './format.ts';
import { markdownTable, peersTable, sweepCostNote, sweepTable } from './peers-sweep.ts';
import {
  accuracyRows,
  calibrationChoiceVerdict,
  checkReport,
  costRows,
  familiesOf,
  sortedLayers,
} from './rows.ts';
import { renderTerminalLcChart } from './terminal.ts';
import type { DemoReport } from './types.ts';

/** Table cells must not break the table: pipes escaped, line breaks flattened. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** `numeric` names the right-aligned columns; the others are left-aligned. */
function table(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  numeric: readonly number[],
): string {
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [
    line(head),
    line(head.map((_, i) => (numeric.includes(i) ? '---:' : '---'))),
    ...rows.map(line),
  ].join('\n');
}

const allButFirst = (columns: number) => Array.from({ length: columns - 1 }, (_, i) => i + 1);

/** The demo report as GitHub-flavoured Markdown (the LC chart as a text chart in a code block). */
export function renderMarkdownReport(report: DemoReport): string {
  checkReport(report);
  const frozen = new Set(report.plan.frozen);
  const families = familiesOf(report);
  const perFamily = report.eval.perFamily ?? {};
  const out: string[] = [
    `# ShortV report: ${report.model}`,
    '',
    `${report.numLayers} decoder layers; visual tokens frozen in ${report.plan.frozen.length}: ` +
      `${sortedLayers(report.plan.frozen).join(', ') || 'none'}.${report.createdAt ? ` Run ${report.createdAt}.` : ''}`,
    '',
    '## Layer Contribution per layer',
    '',
    '```text',
    renderTerminalLcChart(report.lc, report.plan.frozen, { width: 88, legend: true }),
    '```',
    '',
    table(
      ['layer', 'visual LC', 'text LC', 'plan'],
      report.lc.visual.map((v, layer) => [
        String(layer),
        formatLc(v),
        formatLc(report.lc.text[layer]!),
        frozen.has(layer) ? 'frozen' : '',
      ]),
      [1, 2],
    ),
    '',
    '## Accuracy',
    '',
    table(
      ['run', 'overall', ...families.map((f) => `${f}${perFamily[f] ? ` (n=${perFamily[f].samples})` : ''}`)],
      accuracyRows(report).map((row) => [
        row.label,
        formatPercent(row.accuracy),
        ...families.map((f) => formatPercent(row.perFamily[f])),
      ]),
      allButFirst(families.length + 2),
    ),
    '',
    `${report.eval.samples} held-out samples; overall accuracy is exact match over single-answer questions (describe excluded).`,
  ];
  if (report.eval.agreement !== undefined) {
    out.push(
      `ShortV gives the same normalised answer as dense on ${formatPercent(report.eval.agreement)} of samples.`,
    );
  }
  const d = report.eval.description;
  if (d) {
    out.push(
      '',
      table(
        [`descriptions (n=${d.samples})`, 'exact match', 'token F1'],
        [
          ['Dense', formatPercent(d.dense.exactMatch), formatRatio(d.dense.f1)],
          ['ShortV', formatPercent(d.shortv.exactMatch), formatRatio(d.shortv.f1)],
        ],
        [1, 2],
      ),
    );
  }
  const choice = report.calibrationChoice;
  if (choice) {
    out.push(
      '',
      table(
        [
          `descriptions by calibration (${choice.layers} frozen, n=${choice.samples})`,
          'frozen layers',
          'exact match',
          'token F1',
        ],
        [
          ['Dense', '', formatPercent(choice.dense.exactMatch), formatRatio(choice.dense.f1)],
          ...choice.arms.map((a) => [
            `${a.calibration} (${a.metric})`,
            a.frozen.join(', '),
            formatPercent(a.exactMatch),
            formatRatio(a.f1),
          ]),
        ],
        [2, 3],
      ),
      '',
      calibrationChoiceVerdict(choice),
    );
  }
  out.push(
    '',
    '## Cost relative to dense',
    '',
    table(
      ['measure', 'ShortV / dense', 'how'],
      costRows(report).map((r) => [r.label, formatRatio(r.value), r.note]),
      [1],
    ),
    '',
    `Median prefill in the eval runs: dense ${formatMs(report.eval.dense.prefillMs)}, ShortV ${formatMs(report.eval.shortv.prefillMs)}.`,
    '',
    ...peerAndSweepMarkdown(report),
    '## Calibration provenance',
    '',
    table(
      ['item', 'value'],
      [
        ['model', report.model],
        ['fingerprint', report.fingerprint ?? MISSING],
        ['calibration samples', String(report.calibration.samples)],
        ['calibration time', formatSeconds(report.calibration.seconds)],
        ['dataset', report.calibration.dataset ?? MISSING],
        ['seed', report.calibration.seed === undefined ? MISSING : String(report.calibration.seed)],
        ['LC metric', report.lc.metric ?? MISSING],
        ['created with', report.calibration.createdWith ?? MISSING],
      ],
      [],
    ),
    '',
  );
  return out.join('\n');
}

function peerAndSweepMarkdown(report: DemoReport): string[] {
  const out: string[] = [];
  if (report.peers) {
    out.push('## Peer methods', '', markdownTable(peersTable(report.peers)), '');
  }
  if (report.sweep) {
    out.push('## N-sweep', '', markdownTable(sweepTable(report.sweep)), '', sweepCostNote(report.sweep), '');
  }
  return out;
}
