import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { modelShapesDir } from '@shortv/model-shapes/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { solidPng } from '../../../packages/runtime-node/test/png.ts';
import { cli, tempDir } from './helpers.ts';

let dir: string;
let image: string;

beforeAll(async () => {
  dir = await tempDir('shortv-cli-run-');
  image = join(dir, 'red.png');
  await writeFile(image, solidPng(72, 72, [220, 30, 30]));
});

const base = () => ['--no-cache'];
const execFileAsync = promisify(execFile);
// Measured 385 MiB when read in bands, 1382 MiB when the PNG is decoded whole.
const PEAK_RSS_LIMIT_MIB = 800;

describe('shortv run', () => {
  it('answers with --json as {answer, stats}', async () => {
    const r = await cli([
      'run',
      '--image',
      image,
      '--prompt',
      'how many objects are there?',
      '--json',
      ...base(),
    ]);
    expect(r.code).toBe(0);
    const parsed = JSON.parse(r.out);
    expect(typeof parsed.answer).toBe('string');
    expect(parsed.stats.visualTokens).toBe(144);
    expect(parsed.stats.promptTokens).toBeGreaterThan(144);
  });

  it('names a missing image file, exit 1, no stack', async () => {
    const r = await cli(['run', '--image', join(dir, 'nope.png'), '--prompt', 'what?', ...base()]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/nope\.png/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('refuses a file that is not an image', async () => {
    const text = join(dir, 'notes.txt');
    await writeFile(text, 'this is not an image\n');
    const r = await cli(['run', '--image', text, '--prompt', 'what?', ...base()]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/image/i);
  });

  it('downscales a 20000x20000 PNG while reading it and answers as for a small one of its colour', async () => {
    const huge = join(dir, 'huge.png');
    const small = join(dir, 'blue.png');
    await writeFile(huge, solidPng(20000, 20000, [30, 30, 220]));
    await writeFile(small, solidPng(336, 336, [30, 30, 220]));
    const args = (path: string) => [
      'run',
      '--image',
      path,
      '--prompt',
      'what color is it?',
      '--json',
      ...base(),
    ];
    // In a child process of its own, so its peak RSS is this command's alone.
    const { stdout } = await execFileAsync(
      process.execPath,
      [
        '--conditions=@shortv/source',
        '--import',
        'tsx',
        join(import.meta.dirname, 'fixtures', 'cli-in-child.ts'),
        ...args(huge),
      ],
      { cwd: join(import.meta.dirname, '..'), maxBuffer: 1 << 20 },
    );
    const child = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      code: number;
      out: string;
      err: string;
      peakRssMiB: number;
    };
    console.log(`shortv run on 20000x20000: exit ${child.code}, peak RSS ${child.peakRssMiB.toFixed(0)} MiB`);
    expect(child.err).toBe('');
    expect(child.code).toBe(0);
    const answer = JSON.parse(child.out) as { answer: string; stats: { visualTokens: number } };
    expect(answer.stats.visualTokens).toBe(144);
    const reference = await cli(args(small));
    expect(reference.code).toBe(0);
    expect(answer.answer).toBe(JSON.parse(reference.out).answer);
    // The full-size RGB raster alone would be 1144 MiB; read in bands it never exists.
    expect(child.peakRssMiB).toBeLessThan(PEAK_RSS_LIMIT_MIB);
  }, 120_000);

  it('refuses an empty prompt', async () => {
    const r = await cli(['run', '--image', image, '--prompt', '  ', ...base()]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/prompt is empty/);
  });

  it('refuses a plan made for another model', async () => {
    const plan = join(dir, 'other-plan.json');
    await writeFile(
      plan,
      JSON.stringify({
        format: 'shortv.freeze-plan',
        version: 1,
        model: { architecture: 'llava', numLayers: 32, fingerprint: `sha256:${'0'.repeat(64)}` },
        layers: [{ index: 31, visual: 'freeze' }],
        prune: null,
        withdraw: null,
        lc: null,
        calibration: null,
        estimate: null,
      }),
    );
    const r = await cli(['run', '--image', image, '--prompt', 'what?', '--plan', plan, ...base()]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/layer/i);
    expect(r.err).toMatch(/fingerprint/i);
  });

  it('names a model folder that does not exist', async () => {
    const r = await cli([
      'run',
      '--model',
      join(dir, 'missing-model'),
      '--image',
      image,
      '--prompt',
      'what?',
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/missing-model/);
  });
});

describe('shortv inspect', () => {
  it('reports the bundled model with --json', async () => {
    const r = await cli(['inspect', '--json']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.out);
    expect(info.model).toBe(modelShapesDir());
    expect(info.text.layers).toBeGreaterThanOrEqual(12);
    expect(info.text.kvHeads).toBeLessThan(info.text.heads);
    expect(info.visualTokensPerImage).toBeGreaterThanOrEqual(100);
    expect(info.parameters).toBeGreaterThan(1_000_000);
    expect(info.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('shows what a plan freezes and its FLOPs ratio', async () => {
    const info = JSON.parse((await cli(['inspect', '--json'])).out);
    const plan = join(dir, 'plan.json');
    const layers = [11, 10, 9, 8, 7, 6, 5].map((index) => ({ index, visual: 'freeze' }));
    await writeFile(
      plan,
      JSON.stringify({
        format: 'shortv.freeze-plan',
        version: 1,
        model: { architecture: 'llava', numLayers: info.text.layers, fingerprint: info.fingerprint },
        layers,
        prune: null,
        withdraw: null,
        lc: null,
        calibration: null,
        estimate: null,
      }),
    );
    const r = await cli(['inspect', '--plan', plan, '--json']);
    expect(r.code).toBe(0);
    const withPlan = JSON.parse(r.out);
    expect(withPlan.plan.frozenLayers).toHaveLength(7);
    expect(withPlan.plan.flopsRatio).toBeGreaterThan(0.3);
    expect(withPlan.plan.flopsRatio).toBeLessThan(0.8);
    const text = await cli(['inspect', '--plan', plan]);
    expect(text.out).toContain(`7/${info.text.layers} layers frozen`);
  });
});
