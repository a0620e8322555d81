import { spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listCacheItems } from '@shortv/runtime-node';
import { ShortvError } from '@shortv/tensor';
import type { BenchChildInput, BenchChildResult, PeakInput, PeakResult } from './bench-child.ts';

/** The child script next to this file (.ts when run from source, .js when built). */
function childScript(): string {
  const own = fileURLToPath(import.meta.url);
  return join(own, '..', `bench-child${own.endsWith('.ts') ? '.ts' : '.js'}`);
}

/**
 * Node flags for the child: this process's own, plus what running TypeScript source needs when this
 * process got it another way (a test runner's loader).
 */
function childNodeFlags(script: string): string[] {
  const flags = [...process.execArgv];
  if (script.endsWith('.ts')) {
    if (!flags.some((f) => f.includes('@shortv/source'))) flags.push('--conditions=@shortv/source');
    const hasTsx = flags.some((f, i) => f === '--import=tsx' || (f === 'tsx' && flags[i - 1] === '--import'));
    if (!hasTsx) flags.push('--import', 'tsx');
  }
  return flags;
}

/** Runs one configuration in a fresh process (same node flags), so its peak memory is its own. */
export function runChild(input: BenchChildInput): Promise<BenchChildResult>;
export function runChild(input: PeakInput): Promise<PeakResult>;
export function runChild(input: BenchChildInput | PeakInput): Promise<BenchChildResult | PeakResult> {
  return new Promise((resolve, reject) => {
    const script = childScript();
    // cwd: the package folder, where `--import tsx` resolves.
    const child = spawn(process.execPath, [...childNodeFlags(script), script, JSON.stringify(input)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: join(script, '..', '..', '..'),
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) {
        resolve(JSON.parse(line) as BenchChildResult | PeakResult);
        return;
      }
      reject(
        new ShortvError(
          'E_BENCH_CHILD',
          `a benchmark process ended with ${signal ?? `exit code ${code}`}${signal === 'SIGKILL' ? ' (out of memory?)' : ''}: ${err.trim().split('\n').slice(-6).join(' | ')}`,
        ),
      );
    });
  });
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Bytes of a model folder's safetensors files. */
export async function checkpointBytes(dir: string): Promise<number> {
  let total = 0;
  for (const f of await readdir(dir)) {
    if (f.endsWith('.safetensors')) total += (await stat(join(dir, f))).size;
  }
  return total;
}

/** The weights file a load just used: the most recently used weights item of the cache. */
export async function latestWeightsFileBytes(cacheDir: string): Promise<number> {
  return (await weightsItems(cacheDir)).at(-1)?.bytes ?? 0;
}

/** The weights files in the cache, by data file name. */
export async function weightsFileNames(cacheDir: string): Promise<string[]> {
  return (await weightsItems(cacheDir)).map((i) => i.files.sort()[0]!);
}

async function weightsItems(cacheDir: string) {
  return (await listCacheItems(cacheDir)).filter((i) => i.kind === 'weights');
}
