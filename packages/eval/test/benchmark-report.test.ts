import { describe, expect, it } from 'vitest';
import {
  type BenchmarkReport,
  parsePope,
  quantile,
  renderBenchmarkHtml,
  renderBenchmarkMarkdown,
  scoreBenchmark,
} from '../src/index.ts';

function report(): BenchmarkReport {
  const { items, issues } = parsePope(
    [
      '{"question_id": 1, "image": "a.png", "text": "Is there a circle?", "label": "yes"}',
      '{"question_id": 2, "image": "a.png", "text": "Is there a star?", "label": "no"}',
      'not json',
    ].join('\n'),
    'pope_random.jsonl',
  );
  const run = (label: string, answers: [string, string], flopsRatio: number) => {
    const predictions = new Map([
      ['random/1', answers[0]],
      ['random/2', answers[1]],
    ]);
    const { itemScores: _, ...score } = scoreBenchmark('pope', items, predictions);
    return {
      label,
      plan: null,
      score,
      flopsRatio,
      prefill: { medianMs: 10 * flopsRatio, p90Ms: 12 * flopsRatio, ratioToDense: flopsRatio },
      decodeTokensPerSecond: 100,
      peakRssMb: 300,
      predictions: Object.fromEntries(predictions),
    };
  };
  return {
    format: 'pope',
    data: 'pope_random.jsonl',
    model: 'tiny',
    samples: 2,
    skipped: issues,
    runs: [run('dense', ['yes', 'no'], 1), run('fastv | K=2', ['yes', 'yes'], 0.55)],
    timing: { samples: 2, repeats: 3, warmup: 1 },
    seed: 0,
    createdAt: '2026-12-01T00:00:00.000Z',
  };
}

describe('benchmark report', () => {
  it('tabulates score, POPE F1, cost and the skipped lines in Markdown', () => {
    const md = renderBenchmarkMarkdown(report());
    expect(md).toContain('| dense | 100.0% | 100.0% | 10.00 ms | 12.00 ms | 1.000 | 100.0 | 300 MB |');
    // dense: TP 1, TN 1 -> F1 1; the second run says yes twice: P 1/2, R 1 -> F1 2/3.
    expect(md).toContain('| fastv \\| K=2 | 50.0% | 50.0% | 100.0% | 66.7% | 100.0% |');
    expect(md).toMatch(/\| pope_random\.jsonl \| 3 \| malformed: not valid JSON/);
  });

  it('renders one self-contained HTML page with the cost charts', () => {
    const html = renderBenchmarkHtml(report());
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).not.toMatch(/<script|https?:\/\//);
    expect(html).toContain('fastv | K=2');
  });

  it('quantile interpolates between order statistics', () => {
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBeCloseTo(9.1, 12);
    expect(quantile([], 0.9)).toBeNaN();
  });
});
