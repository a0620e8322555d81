import { describe, expect, it } from 'vitest';
import { type DemoReport, renderHtmlReport, renderMarkdownReport, type SweepSection } from '../src/index.ts';
import { exampleReport } from './helpers/report.ts';

const peer = (label: string, accuracy: number, flopsRatio: number, prefillMs: number) => ({
  label,
  accuracy,
  flopsRatio,
  prefillMs,
  prefillRatio: prefillMs / 20,
  frozen: [],
  prune: null,
  withdraw: null,
});

function withPeersAndSweep(): DemoReport {
  const sweep: SweepSection = {
    samples: 10,
    numLayers: 2,
    rules: [
      { label: 'LC', accuracy: [0.9, 0.9, 0.5] },
      { label: 'first N', accuracy: [0.9, 0.4, 0.5] },
    ],
    flopsRatio: [1, 0.75, 0.5],
    prefillRatio: [1, 0.8, null],
    method: 'teacher-forced answers on',
    cost: { sets: 4, layerRunsPerSample: 5, naiveLayerRunsPerSample: 8 },
  };
  return {
    ...exampleReport(),
    peers: [peer('dense', 0.9, 1, 20), peer('FastV (K=2, R=50%)', 0.8, 0.58, 13)],
    sweep,
  };
}

describe('demo report: peer table and N-sweep', () => {
  it('adds both tables to the Markdown report, with the sweep cost', () => {
    const md = renderMarkdownReport(withPeersAndSweep());
    expect(md).toContain('| FastV (K=2, R=50%) | 80.0% | 58.0% | 13.00 ms | 0.650 |');
    expect(md).toContain('| 1 | 90.0% | 40.0% | 75.0% | 0.800 |');
    expect(md).toContain('| 2 | 50.0% | 50.0% | 50.0% | – |');
    expect(md).toContain('4 distinct layer sets cost 5.0 decoder-layer runs per sample instead of 8');
  });

  it('draws one line per rule in the HTML chart and leaves the sections out when absent', () => {
    const html = renderHtmlReport(withPeersAndSweep());
    const chart = html.slice(html.indexOf('sweep-chart'));
    expect(chart.match(/<polyline /g)).toHaveLength(2);
    expect(html).toContain('<h2>Peer methods</h2>');
    const plain = renderHtmlReport(exampleReport());
    expect(plain).not.toContain('Peer methods');
    expect(plain).not.toContain('sweep-chart');
  });
});
