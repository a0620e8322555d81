import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeShapesDataset } from '@shortv/shapes/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, tempDir } from './helpers.ts';

let dir: string;
let lcPath: string;
let test: string;

beforeAll(async () => {
  dir = await tempDir('shortv-cli-sweep-');
  const cal = join(dir, 'cal');
  test = join(dir, 'test');
  await writeShapesDataset({ outDir: cal, count: 2, seed: 6, split: 'calibration' });
  await writeShapesDataset({ outDir: test, count: 2, seed: 6, split: 'test' });
  lcPath = join(dir, 'lc.json');
  const r = await cli(['calibrate', '--data', cal, '--samples', '2', '--out', lcPath, '--no-cache']);
  if (r.code !== 0) throw new Error(r.err);
}, 120_000);

describe('shortv sweep', () => {
  it('tabulates N = 0..L for LC, random, first and last N with FLOPs, prefill and its cost', async () => {
    const out = join(dir, 'out');
    const r = await cli([
      'sweep',
      '--lc',
      lcPath,
      '--data',
      test,
      '--samples',
      '3',
      '--timing-samples',
      '1',
      '--out',
      out,
      '--json',
      '--no-cache',
    ]);
    expect(r.code, r.err).toBe(0);
    const sweep = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8'));
    const L = sweep.numLayers;
    expect(sweep.rules.map((x: { label: string }) => x.label)).toEqual([
      'LC',
      'random (mean of 5)',
      'first N',
      'last N',
    ]);
    for (const rule of sweep.rules) expect(rule.accuracy).toHaveLength(L + 1);
    // N = 0 is the dense model and N = L freezes every layer, whatever the rule.
    for (const n of [0, L]) {
      expect(new Set(sweep.rules.map((x: { accuracy: number[] }) => x.accuracy[n])).size).toBe(1);
    }
    expect(sweep.flopsRatio[0]).toBe(1);
    for (let n = 1; n <= L; n++) expect(sweep.flopsRatio[n]).toBeLessThan(sweep.flopsRatio[n - 1]);
    expect(sweep.prefillRatio).toHaveLength(L + 1);
    expect(sweep.cost.layerRunsPerSample).toBeLessThan(sweep.cost.naiveLayerRunsPerSample);
    expect(readFileSync(join(out, 'sweep.html'), 'utf8').match(/<polyline /g)).toHaveLength(4);
    expect(readFileSync(join(out, 'sweep.md'), 'utf8')).toMatch(/\| 0 \| /);
  }, 180_000);

  it('refuses LC measured on another model', async () => {
    const lc = JSON.parse(readFileSync(lcPath, 'utf8'));
    lc.model.fingerprint = `sha256:${'0'.repeat(64)}`;
    const other = join(dir, 'other-lc.json');
    writeFileSync(other, JSON.stringify(lc));
    const r = await cli(['sweep', '--lc', other, '--data', test, '--out', join(dir, 'x'), '--no-cache']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/measure LC on the model/);
  }, 60_000);
});
