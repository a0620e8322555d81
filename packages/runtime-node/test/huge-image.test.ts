import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { solidPng } from './png.ts';

const run = promisify(execFile);
const child = join(import.meta.dirname, 'fixtures', 'decode-in-child.ts');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shortv-huge-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function decodeInChild(path: string, maxPixels?: number): Promise<Record<string, unknown>> {
  const args = ['--conditions=@shortv/source', '--import', 'tsx', child, path];
  if (maxPixels !== undefined) args.push(String(maxPixels));
  const { stdout } = await run(process.execPath, args, { cwd: join(import.meta.dirname, '..') });
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  console.log(`decode ${path}: ${JSON.stringify(result)}`);
  return result;
}

describe('a 20000x20000 PNG (400 megapixels, 1.2 GB as RGB)', () => {
  it('is downscaled while read, never held at full size', async () => {
    const path = join(dir, 'huge.png');
    await writeFile(path, solidPng(20_000, 20_000, [10, 200, 30]));

    const result = await decodeInChild(path);

    expect(result.ok).toBe(true);
    expect([result.sourceWidth, result.sourceHeight]).toEqual([20_000, 20_000]);
    expect(result.width).toBe(result.height);
    const pixels = (result.width as number) * (result.height as number);
    expect(pixels).toBeLessThanOrEqual(40_000_000);
    expect(pixels).toBeGreaterThan(39_000_000);
    expect(result.first).toEqual([10, 200, 30]);
    expect(result.offColour).toBe(0);
    // The full-size raster alone would be 1144 MiB; the downscaled one is 114 MiB.
    expect(result.peakRssMiB).toBeLessThan(700);
  });
});
