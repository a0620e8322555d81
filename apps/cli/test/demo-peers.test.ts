import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from './helpers.ts';

describe('shortv demo: peer table, N-sweep and calibration choice', () => {
  it('reports the five peer rows and the sweep of N = 0..L in report.json, the text output and the HTML', async () => {
    const out = await tempDir('shortv-cli-demo-');
    const r = await cli([
      'demo',
      '--out',
      out,
      '--calibration-samples',
      '2',
      '--eval-samples',
      '7',
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
    expect(r.out).toContain('Peer methods on the same 7 questions');
    // The first test image's seven questions end with its description: both calibrations answer it.
    const choice = report.calibrationChoice;
    expect(choice.samples).toBe(1);
    expect(choice.layers).toBe(report.plan.frozen.length);
    expect(choice.arms.map((a: { calibration: string }) => a.calibration)).toEqual([
      'first-token',
      'multi-token',
    ]);
    expect(choice.arms[0].frozen).toEqual(report.plan.frozen);
    expect(choice.arms[0].metric).toMatch(/@answer\[0\]$/);
    expect(choice.arms[1].metric).toMatch(/@answer\[all\]$/);
    expect(choice.arms[1].frozen).toHaveLength(report.plan.frozen.length);
    expect(choice.arms[0].f1).toBe(report.eval.description.shortv.f1);
    expect(['first-token', 'multi-token', 'tie']).toContain(choice.better);
    const multiLc = JSON.parse(readFileSync(join(out, 'lc-multi-token.json'), 'utf8'));
    expect(multiLc.visual).toHaveLength(report.numLayers);
    expect(r.out).toContain('multi-token calibration');
    expect(r.out).toMatch(/N-sweep\n\s+N\s+LC/);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<h2>Peer methods</h2>');
    expect(html).toContain('sweep-chart');
    expect(html).toContain('Descriptions by calibration');
  }, 300_000);
});
