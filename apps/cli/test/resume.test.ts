import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeShapesDataset } from '@shortv/shapes/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, tempDir } from './helpers.ts';

let dir: string;
let data: string;

beforeAll(async () => {
  dir = await tempDir('shortv-cli-resume-');
  data = join(dir, 'cal');
  await writeShapesDataset({ outDir: data, count: 5, seed: 11, split: 'calibration' });
});

async function lines(path: string): Promise<number> {
  return existsSync(path) ? (await readFile(path, 'utf8')).split('\n').filter(Boolean).length : 0;
}

const args = (out: string) => [
  'calibrate',
  '--data',
  data,
  '--samples',
  '4',
  '--seed',
  '3',
  '--out',
  out,
  '--no-cache',
];

describe('shortv calibrate --resume', () => {
  it('keeps the samples finished before Ctrl-C and resumes to the uninterrupted result', async () => {
    const whole = join(dir, 'whole.json');
    expect((await cli(args(whole))).code).toBe(0);
    expect(existsSync(`${whole}.partial`)).toBe(false);

    const out = join(dir, 'resumed.json');
    const partial = `${out}.partial`;
    const run = cli(args(out));
    // Ctrl-C once two samples are kept (header + 2 lines).
    const timer = setInterval(async () => {
      if ((await lines(partial)) >= 3) process.emit('SIGINT');
    }, 20);
    const stopped = await run.finally(() => clearInterval(timer));
    expect(stopped.code).toBe(130);
    expect(stopped.err).toMatch(
      /samples are kept in .*resumed\.json\.partial: run the same command with --resume/,
    );
    expect(existsSync(out)).toBe(false);
    const kept = (await lines(partial)) - 1;
    expect(kept).toBeGreaterThanOrEqual(2);
    expect(kept).toBeLessThan(4);

    const resumed = await cli([...args(out), '--resume', '--json']);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.out).resumed).toBe(kept);
    expect(existsSync(partial)).toBe(false);
    const a = JSON.parse(await readFile(whole, 'utf8'));
    const b = JSON.parse(await readFile(out, 'utf8'));
    expect(b.visual).toEqual(a.visual);
    expect(b.text).toEqual(a.text);
    expect(b.tokens).toEqual(a.tokens);
    expect(b.samples).toBe(4);
  }, 180_000);

  it('refuses to resume the partial file of another calibration', async () => {
    const out = join(dir, 'other.json');
    const header = {
      format: 'shortv.lc-partial',
      version: 1,
      fingerprint: 'sha256:0',
      dataset: 'x',
      samples: 4,
      seed: 3,
      direction: 'mod||orig',
      aggregation: 'first',
    };
    await writeFile(`${out}.partial`, `${JSON.stringify(header)}\n{"index":0,"vis`);
    const r = await cli([...args(out), '--resume']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/is of another calibration \(fingerprint "sha256:0"/);
  }, 60_000);
});
