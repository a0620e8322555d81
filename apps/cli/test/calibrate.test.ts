import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeShapesDataset } from '@shortv/shapes/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, tempDir } from './helpers.ts';

let dir: string;
let data: string;

beforeAll(async () => {
  dir = await tempDir('shortv-cli-cal-');
  data = join(dir, 'cal');
  await writeShapesDataset({ outDir: data, count: 3, seed: 4, split: 'calibration' });
});

describe('shortv calibrate and plan', () => {
  it('leaves descriptions out unless --multi-token, which scores all their answer tokens', async () => {
    const first = join(dir, 'lc-first.json');
    const r = await cli([
      'calibrate',
      '--data',
      data,
      '--samples',
      '1',
      '--out',
      first,
      '--json',
      '--no-cache',
    ]);
    expect(r.code, r.err).toBe(0);
    const summary = JSON.parse(r.out);
    // 3 images, one description each.
    expect(summary.skipped).toBe(3);
    expect(summary.metric).toMatch(/@answer\[0\]$/);
    const multi = join(dir, 'lc-multi.json');
    const m = await cli([
      'calibrate',
      '--data',
      data,
      '--samples',
      '1',
      '--multi-token',
      '--out',
      multi,
      '--json',
      '--no-cache',
    ]);
    expect(m.code, m.err).toBe(0);
    expect(JSON.parse(m.out).skipped).toBe(0);
    expect(JSON.parse(await readFile(multi, 'utf8')).metric).toMatch(/@answer\[all\]$/);
    const text = await cli([
      'calibrate',
      '--data',
      data,
      '--samples',
      '1',
      '--out',
      join(dir, 'lc-text.json'),
      '--no-cache',
    ]);
    expect(text.err).toContain(
      'left out 3 free-text (describe) records; --multi-token calibrates on them too',
    );
    const clash = join(dir, 'lc-clash.json');
    const bad = await cli([
      'calibrate',
      '--data',
      data,
      '--multi-token',
      '--aggregation',
      'first',
      '--out',
      clash,
    ]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('--multi-token scores every answer token');
    expect(existsSync(clash)).toBe(false);
  }, 120_000);

  it('measures LC, writes lc.json, and turns it into a plan', async () => {
    const lcPath = join(dir, 'lc.json');
    const r = await cli([
      'calibrate',
      '--data',
      data,
      '--samples',
      '2',
      '--out',
      lcPath,
      '--json',
      '--no-cache',
    ]);
    expect(r.code).toBe(0);
    const lc = JSON.parse(await readFile(lcPath, 'utf8'));
    expect(lc.visual).toHaveLength(lc.model.numLayers);
    expect(lc.samples).toBe(2);
    const planPath = join(dir, 'plan.json');
    const p = await cli(['plan', '--lc', lcPath, '--layers', '3', '--out', planPath, '--json']);
    expect(p.code).toBe(0);
    const plan = JSON.parse(await readFile(planPath, 'utf8'));
    expect(plan.layers).toHaveLength(3);
    // The frozen layers are the three lowest visual LC.
    const lowest = lc.visual
      .map((v: number, i: number) => [v, i])
      .sort((a: number[], b: number[]) => a[0]! - b[0]! || b[1]! - a[1]!)
      .slice(0, 3)
      .map((x: number[]) => x[1])
      .sort((a: number, b: number) => a - b);
    expect(plan.layers.map((l: { index: number }) => l.index)).toEqual(lowest);

    const tooMany = await cli([
      'plan',
      '--lc',
      lcPath,
      '--layers',
      String(lc.model.numLayers + 1),
      '--out',
      join(dir, 'x.json'),
    ]);
    expect(tooMany.code).toBe(1);
    expect(tooMany.err).toMatch(/layers/);
    for (const ratio of ['0', '1.5', '-0.2']) {
      const bad = await cli(['plan', '--lc', lcPath, '--flops', ratio, '--out', join(dir, 'x.json')]);
      expect(bad.code).toBe(1);
      expect(bad.err).toMatch(/--flops/);
    }
    expect(existsSync(join(dir, 'x.json'))).toBe(false);

    const other = { ...lc, model: { ...lc.model, fingerprint: `sha256:${'1'.repeat(64)}` } };
    const otherPath = join(dir, 'other-lc.json');
    await writeFile(otherPath, JSON.stringify(other));
    const mismatch = await cli([
      'plan',
      '--lc',
      otherPath,
      '--layers',
      '2',
      '--model',
      '../../packages/model-shapes/model',
      '--out',
      join(dir, 'y.json'),
    ]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.err).toMatch(/fingerprint|another model|measure LC/i);
    expect(existsSync(join(dir, 'y.json'))).toBe(false);
  }, 120_000);

  it('names a missing or empty data folder', async () => {
    const missing = await cli(['calibrate', '--data', join(dir, 'nope'), '--out', join(dir, 'lc2.json')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/nope/);
    const empty = join(dir, 'empty');
    await mkdir(empty, { recursive: true });
    const r = await cli(['calibrate', '--data', empty, '--out', join(dir, 'lc2.json')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/manifest|data/i);
    expect(existsSync(join(dir, 'lc2.json'))).toBe(false);
  });

  it('refuses a sample whose image is missing', async () => {
    const broken = join(dir, 'broken');
    await writeShapesDataset({ outDir: broken, count: 2, seed: 9, split: 'calibration' });
    const first = JSON.parse((await readFile(join(broken, 'data.jsonl'), 'utf8')).split('\n')[0]!);
    await rm(join(broken, first.image));
    const r = await cli(['calibrate', '--data', broken, '--out', join(dir, 'lc3.json')]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(first.image.split('/').pop());
    expect(existsSync(join(dir, 'lc3.json'))).toBe(false);
  });

  it('leaves no lc.json behind when interrupted', async () => {
    const out = join(dir, 'lc-interrupted.json');
    const run = cli(['calibrate', '--data', data, '--samples', '3', '--out', out, '--no-cache']);
    // Keep pressing Ctrl-C until the command listens (after the model loads) and stops.
    const timer = setInterval(() => process.emit('SIGINT'), 200);
    const r = await run.finally(() => clearInterval(timer));
    expect(r.code).toBe(130);
    expect(r.err).toMatch(/interrupted/i);
    expect(existsSync(out)).toBe(false);
  }, 60_000);
});
