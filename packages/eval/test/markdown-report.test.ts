import { describe, expect, it } from 'vitest';
import {
  formatLc,
  formatPercent,
  formatRatio,
  renderMarkdownReport,
  TERMINAL_FROZEN_MARK,
} from '../src/index.ts';
import { exampleReport } from './helpers/report.ts';

/** The rows of the first Markdown table after a heading, as arrays of trimmed cells. */
function tableAfter(markdown: string, heading: string): string[][] {
  const lines = markdown.split('\n');
  let i = lines.indexOf(heading);
  expect(i).toBeGreaterThanOrEqual(0);
  while (!lines[i]!.startsWith('|')) i++;
  const rows: string[][] = [];
  for (; i < lines.length && lines[i]!.startsWith('|'); i++) {
    rows.push(
      lines[i]!.slice(2, -2)
        .split(/(?<!\\) \| /)
        .map((c) => c.trim()),
    );
  }
  return rows;
}

describe('renderMarkdownReport', () => {
  const report = exampleReport();
  const md = renderMarkdownReport(report);

  it('has the four sections', () => {
    for (const h of [
      '# ShortV report: shortv/llava-shapes-tiny',
      '## Layer Contribution per layer',
      '## Accuracy',
      '## Cost relative to dense',
      '## Calibration provenance',
    ]) {
      expect(md.split('\n')).toContain(h);
    }
  });

  it('lists LC per layer with the frozen layers marked, in the table and the text chart', () => {
    const rows = tableAfter(md, '## Layer Contribution per layer');
    expect(rows[0]).toEqual(['layer', 'visual LC', 'text LC', 'plan']);
    const body = rows.slice(2);
    expect(body).toHaveLength(12);
    body.forEach((row, layer) => {
      expect(row[0]).toBe(String(layer));
      expect(row[1]).toBe(formatLc(report.lc.visual[layer]!));
      expect(row[2]).toBe(formatLc(report.lc.text[layer]!));
      expect(row[3] === 'frozen').toBe(report.plan.frozen.includes(layer));
    });
    const chart = md.slice(md.indexOf('```text\n') + 8, md.indexOf('\n```', md.indexOf('```text')));
    const chartLines = chart.split('\n');
    expect(chartLines).toHaveLength(13);
    const marked = chartLines
      .slice(0, 12)
      .flatMap((l, layer) => (l[3] === TERMINAL_FROZEN_MARK ? [layer] : []));
    expect(marked).toEqual([...report.plan.frozen].sort((a, b) => a - b));
  });

  it('has the accuracy rows, the ratios and the provenance figures', () => {
    const acc = tableAfter(md, '## Accuracy');
    expect(acc.slice(2).map((r) => r.slice(0, 2))).toEqual([
      ['Dense', formatPercent(0.8125)],
      ['ShortV (7 of 12 layers frozen)', formatPercent(0.7917)],
      ['LC-chosen', '79.2%'],
      ['random (mean of 5 seeds)', '64.3%'],
      ['last 7', '79.2%'],
      ['first 7', '24.2%'],
    ]);
    const cost = tableAfter(md, '## Cost relative to dense');
    expect(cost.slice(2).map((r) => r.slice(0, 2))).toEqual([
      ['Prefill FLOPs', formatRatio(0.4713)],
      ['Prefill time (median of ratios)', formatRatio(0.6712)],
      ['Prefill time (ratio of medians)', formatRatio(0.6796)],
    ]);
    const calibration = Object.fromEntries(tableAfter(md, '## Calibration provenance').slice(2));
    expect(calibration).toMatchObject({
      model: 'shortv/llava-shapes-tiny',
      'calibration samples': '40',
      'calibration time': '12.3 s',
      'LC metric': 'kl(p_mod\\|\\|p)@answer[0]',
    });
  });
});
