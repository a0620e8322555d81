import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePlan } from '@shortv/plan';
import { writeShapesDataset } from '@shortv/shapes/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, tempDir } from './helpers.ts';

let dir: string;
let data: string;

beforeAll(async () => {
  dir = await tempDir('shortv-cli-peers-');
  data = join(dir, 'cal');
  await writeShapesDataset({ outDir: data, count: 3, seed: 8, split: 'calibration' });
});

describe('shortv plan --fastv / --vtw', () => {
  it('writes a valid FastV plan for the model without LC', async () => {
    const out = join(dir, 'fastv.json');
    const r = await cli(['plan', '--fastv', '2:0.5', '--out', out, '--json', '--no-cache']);
    expect(r.code, r.err).toBe(0);
    const plan = parsePlan(readFileSync(out, 'utf8'));
    expect(plan.prune).toEqual({ afterLayer: 1, keep: 0.5 });
    expect(plan.layers).toEqual([]);
    expect(plan.estimate!.flopsRatio).toBeGreaterThan(0.5);
    expect(plan.estimate!.flopsRatio).toBeLessThan(0.7);
    const bad = await cli(['plan', '--fastv', '0:0.5', '--out', out]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/--fastv must be K:R/);
  }, 60_000);

  it('finds the VTW layer on calibration data: the first layer within eta, or a clear error when none is', async () => {
    const out = join(dir, 'vtw.json');
    const loose = await cli([
      'plan',
      '--vtw',
      '--data',
      data,
      '--samples',
      '2',
      '--eta',
      '1e9',
      '--out',
      out,
      '--json',
      '--no-cache',
    ]);
    expect(loose.code, loose.err).toBe(0);
    expect(parsePlan(readFileSync(out, 'utf8')).withdraw).toEqual({ fromLayer: 0 });
    const strict = await cli([
      'plan',
      '--vtw',
      '--data',
      data,
      '--samples',
      '2',
      '--eta',
      '0',
      '--out',
      join(dir, 'x.json'),
      '--no-cache',
    ]);
    expect(strict.code).toBe(1);
    expect(strict.err).toMatch(/no layer's withdrawal keeps KL <= 0 .*raise --eta/);
    expect(strict.err).toMatch(/by first withdrawn layer: 0: .*, 11: /);
  }, 120_000);
});
