import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { modelShapesDir } from '@shortv/model-shapes/node';
import type { ModelFolder } from '@shortv/models';
import { type FreezePlan, parsePlan } from '@shortv/plan';
import { type EngineOptions, VlmEngine } from '@shortv/runtime-core';
import { nodeModelFolder, nodePlatform } from '@shortv/runtime-node';
import { ShortvError } from '@shortv/tensor';
import type { CommandContext } from './command.ts';
import { integerFlag, stringFlag } from './flags.ts';

/** Options every model-loading command accepts. */
export const MODEL_OPTIONS = {
  model: { type: 'string' },
  threads: { type: 'string' },
  'cache-dir': { type: 'string' },
  'no-cache': { type: 'boolean' },
} as const;

/** The --model folder, or the bundled demo model when none is given. */
export async function resolveModelDir(ctx: CommandContext): Promise<string> {
  const given = stringFlag(ctx, 'model');
  const dir = given === undefined ? modelShapesDir() : resolve(given);
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new ShortvError(
      'E_INPUT_NOT_FOUND',
      `model folder ${dir} does not exist: pass --model with a Hugging Face LLaVA folder (config.json, *.safetensors, tokenizer.json)`,
    );
  }
  if (!(await stat(join(dir, 'config.json')).catch(() => undefined))) {
    throw new ShortvError(
      'E_MODEL_FILE_NOT_FOUND',
      `${dir} has no config.json: is it a Hugging Face model folder?`,
    );
  }
  return dir;
}

export function modelFolder(dir: string): ModelFolder {
  return nodeModelFolder(dir);
}

/** Where encoded graphs are cached between runs: --cache-dir, $SHORTV_CACHE_DIR, or ~/.cache/shortv/graphs. */
function cacheDir(ctx: CommandContext): string | undefined {
  if (ctx.values['no-cache'] === true) return undefined;
  return (
    stringFlag(ctx, 'cache-dir') ??
    process.env.SHORTV_CACHE_DIR ??
    join(homedir(), '.cache', 'shortv', 'graphs')
  );
}

export async function readPlanFile(path: string): Promise<FreezePlan> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new ShortvError(
      'E_INPUT_NOT_FOUND',
      error.code === 'ENOENT'
        ? `plan file ${path} does not exist`
        : `cannot read plan file ${path}: ${error.message}`,
    );
  });
  return parsePlan(text);
}

export async function loadEngine(
  ctx: CommandContext,
  dir: string,
  plan: FreezePlan | null,
  extra: Omit<EngineOptions, 'platform' | 'plan'> = {},
): Promise<VlmEngine> {
  // One intra-op thread by default: for small models ORT's thread pool costs more than it gives
  // (measured 4x slower LC calibration on 2 cores with the pool); --threads 0 lets ORT choose.
  const threads = integerFlag(ctx, 'threads', 0, 256, 1);
  const platform = nodePlatform({ intraOpThreads: threads, cacheDir: cacheDir(ctx) });
  return VlmEngine.load(modelFolder(dir), { ...extra, platform, plan });
}
