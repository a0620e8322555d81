import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readShapesDataset } from '@shortv/shapes/node';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/index.ts';

function capture(interactive = false) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t), interactive },
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'shortv-dataset-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function run(args: string[], interactive = false) {
  const c = capture(interactive);
  const code = await runCli(['dataset', 'shapes', ...args], c.io);
  return { code, out: c.out(), err: c.err() };
}

describe('shortv dataset shapes', () => {
  it('writes a small dataset and prints one JSON summary', async () => {
    const dir = join(tempDir(), 'out');
    const r = await run(['--out', dir, '--count', '5', '--seed', '3', '--split', 'test', '--json']);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary).toMatchObject({ outDir: dir, split: 'test', seed: 3, images: 5 });
    const ds = readShapesDataset(dir);
    expect(summary.questions).toBe(ds.questions.length);
    for (const [family, n] of Object.entries(summary.families)) {
      expect(ds.questions.filter((q) => q.family === family)).toHaveLength(n as number);
    }
    expect(readdirSync(join(dir, 'images'))).toHaveLength(5);
    expect(r.err).toBe('');
  });

  it('prints a one-line summary, and progress only on an interactive stderr', async () => {
    const dir = tempDir();
    const r = await run(['--out', dir, '--count', '3', '--seed', '1'], true);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^wrote 3 images and \d+ questions \(train, seed 1, 72px\) to .+\n$/);
    expect(r.err).toContain('shapes: 3/3 images\n');
    const quiet = await run(['--out', tempDir(), '--count', '3', '--seed', '1']);
    expect(quiet.err).toBe('');
  });

  it('replaces a dataset with --force and writes the same bytes for the same seed', async () => {
    const dir = tempDir();
    expect((await run(['--out', dir, '--count', '3', '--seed', '8'])).code).toBe(0);
    const before = readFileSync(join(dir, 'data.jsonl'));
    const again = await run(['--out', dir, '--count', '3', '--seed', '8', '--force']);
    expect(again.code).toBe(0);
    expect(readFileSync(join(dir, 'data.jsonl')).equals(before)).toBe(true);
  });

  const bad: [string, (dir: string) => string[], RegExp][] = [
    ['a zero count', (d) => ['--out', d, '--count', '0'], /--count must be an integer from 1/],
    ['a negative count', (d) => ['--out', d, '--count=-4'], /--count must be an integer from 1/],
    ['a fractional count', (d) => ['--out', d, '--count', '2.5'], /--count must be an integer/],
    ['a count that is not a number', (d) => ['--out', d, '--count', 'many'], /--count must be an integer/],
    ['a missing count', (d) => ['--out', d], /--count is required/],
    ['a missing --out', () => ['--count', '2'], /--out DIR is required/],
    ['an unknown split', (d) => ['--out', d, '--count', '2', '--split', 'dev'], /unknown --split "dev"/],
    [
      'a bad image size',
      (d) => ['--out', d, '--count', '2', '--size', '50'],
      /image size must be a multiple of 3/,
    ],
    ['a bad seed', (d) => ['--out', d, '--count', '2', '--seed', 'x'], /--seed must be an integer/],
    [
      'an output path under a regular file',
      (d) => {
        writeFileSync(join(d, 'plain'), 'x');
        return ['--out', join(d, 'plain', 'data'), '--count', '2'];
      },
      /cannot write the dataset to .*plain.*cannot be created/,
    ],
    [
      'a non-empty directory without --force',
      (d) => {
        writeFileSync(join(d, 'something'), 'x');
        return ['--out', d, '--count', '2'];
      },
      /not empty .*--force/,
    ],
  ];

  it.each(bad)('exits 1 with a clear message for %s', async (_, args, message) => {
    const dir = tempDir();
    const r = await run(args(dir));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(message);
    expect(r.err).not.toContain('    at ');
  });

  it('reports a usage error as JSON with --json', async () => {
    const r = await run(['--out', tempDir(), '--count', '0', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ error: { code: 'E_USAGE' } });
  });

  it('is listed in the help', async () => {
    const c = capture();
    expect(await runCli(['--help'], c.io)).toBe(0);
    expect(c.out()).toContain('dataset shapes');
  });
});
