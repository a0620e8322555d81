import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers.ts';

describe('shortv demo: peer table and N-sweep', () => {
  it('reports the five peer rows and the sweep of N = 0..L in report.json, the text output and the HTML', async () => {
    const out = await mkdtemp(join(tmpdir(), 'shortv-cli-demo-'));
    const r = await cli([
      'demo',
      '--out',
      out,
      '--calibration-samples',
      '2',
      '--eval-samples',
      '4',
      '--no-ablation',
      '--sweep-samples',
      '2',
      '--vtw-eta',
      '1e9',
      '--no-cache',
    ]);
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    const labels = report.peers.map((p: { label: string }) => p.label);
    expect(labels).toHaveLength(5);
    expect(labels[0]).toBe('dense');
    expect(labels[1]).toBe('FastV (K=2, R=50%)');
    // eta 1e9 accepts the first layer: VTW withdraws from layer 0.
    expect(labels[2]).toMatch(/^VTW \(K=0, KL <= 1000000000\)$/);
    expect(labels[3]).toMatch(/^ShortV \(N=\d+\)$/);
    expect(labels[4]).toMatch(/^ShortV \(N=\d+\) \+ FastV$/);
    const [dense, fastv, vtw, shortv, both] = report.peers;
    expect(dense.flopsRatio).toBe(1);
    expect(dense.accuracy).toBe(report.eval.dense.accuracy);
    expect(shortv.accuracy).toBe(report.eval.shortv.accuracy);
    expect(fastv.prune).toEqual({ afterLayer: 1, keep: 0.5 });
    expect(vtw.withdraw).toEqual({ fromLayer: 0 });
    expect(both.frozen).toEqual(shortv.frozen);
    expect(both.flopsRatio).toBeLessThan(Math.min(fastv.flopsRatio, shortv.flopsRatio));
    for (const row of report.peers) expect(row.prefillMs).toBeGreaterThan(0);
    expect(report.sweep.rules).toHaveLength(4);
    expect(report.sweep.rules[0].accuracy).toHaveLength(report.numLayers + 1);
    expect(r.out).toContain('Peer methods on the same 4 questions');
    expect(r.out).toMatch(/N-sweep\n\s+N\s+LC/);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<h2>Peer methods</h2>');
    expect(html).toContain('sweep-chart');
  }, 300_000);
});
