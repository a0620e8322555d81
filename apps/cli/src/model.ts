import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { modelShapesDir } from '@shortv/model-shapes/node';
import type { ModelFolder } from '@shortv/models';
import { type FreezePlan, parsePlan } from '@shortv/plan';
import { type EngineOptions, VlmEngine, type WeightFormat } from '@shortv/runtime-core';
import { nodeModelFolder, nodePlatform } from '@shortv/runtime-node';
import { ShortvError } from '@shortv/tensor';
import type { CommandContext } from './command.ts';
import { integerFlag, stringFlag } from './flags.ts';
import type { OptionHelpTable } from './help.ts';

/** Options every model-loading command accepts. */
export const MODEL_OPTIONS = {
  model: { type: 'string' },
  threads: { type: 'string' },
  'cache-dir': { type: 'string' },
  'no-cache': { type: 'boolean' },
  weights: { type: 'string' },
} as const;

export const MODEL_OPTION_HELP: OptionHelpTable = {
  model: {
    value: 'DIR',
    description: 'Hugging Face LLaVA folder (config.json, *.safetensors, tokenizer.json)',
    default: 'the bundled shapes model',
  },
  threads: {
    value: 'N',
    description: 'ONNX Runtime intra-op threads; 0 lets ONNX Runtime choose',
    default: '1',
  },
  'cache-dir': {
    value: 'DIR',
    description: 'where compiled ONNX graphs are cached between runs',
    default: '$SHORTV_CACHE_DIR, else ~/.cache/shortv/graphs',
  },
  'no-cache': { description: 'build the graphs in memory and cache nothing on disk' },
  weights: {
    value: 'fp32|int8|int4',
    description:
      'decoder Linear weights: fp32, or block-quantized to 8 or 4 bits (ONNX Runtime MatMulNBits; needs the cache)',
    default: 'fp32',
  },
};

const WEIGHT_FORMATS = ['fp32', 'int8', 'int4'] as const;

/** --weights, checked. */
export function weightFormat(ctx: CommandContext): WeightFormat {
  const value = stringFlag(ctx, 'weights') ?? 'fp32';
  if (!(WEIGHT_FORMATS as readonly string[]).includes(value)) {
    throw new ShortvError(
      'E_INPUT_WEIGHTS',
      `--weights must be one of ${WEIGHT_FORMATS.join(', ')}, got "${value}"`,
    );
  }
  if (value !== 'fp32' && ctx.values['no-cache'] === true) {
    throw new ShortvError(
      'E_INPUT_WEIGHTS',
      `--weights ${value} writes the quantized weights to the cache directory: drop --no-cache (or use --weights fp32)`,
    );
  }
  return value as WeightFormat;
}

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
export async function cacheDir(ctx: CommandContext): Promise<string | undefined> {
  if (ctx.values['no-cache'] === true) return undefined;
  const flag = stringFlag(ctx, 'cache-dir');
  const env = process.env.SHORTV_CACHE_DIR;
  const dir = flag ?? (env || undefined) ?? join(homedir(), '.cache', 'shortv', 'graphs');
  const info = await stat(dir).catch(() => undefined);
  if (info && !info.isDirectory()) {
    const origin = flag !== undefined ? '--cache-dir' : env ? 'SHORTV_CACHE_DIR' : 'the default cache folder';
    throw new ShortvError(
      'E_INPUT_CACHE_DIR',
      `${origin} ${dir} is a file, not a folder: point it at a folder, or pass --no-cache`,
    );
  }
  return dir;
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
  const platform = nodePlatform({ intraOpThreads: threads, cacheDir: await cacheDir(ctx) });
  return VlmEngine.load(modelFolder(dir), { ...extra, platform, plan, weights: weightFormat(ctx) });
}
