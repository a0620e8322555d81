import { ShortvError } from '@shortv/tensor';
import type { LcResult, LcScores } from './types.ts';

/** Stable pretty JSON of an LC result (lc.json). */
export function serializeLc(result: LcResult | LcScores): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}

function fail(path: string, expected: string): never {
  throw new ShortvError('E_INPUT_LC', `not an LC file: ${path} should be ${expected}`);
}

function object(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'an object');
  return value as Record<string, unknown>;
}

function integer(value: unknown, path: string, min: number): number {
  if (!Number.isInteger(value) || (value as number) < min) fail(path, `an integer >= ${min}`);
  return value as number;
}

function text(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0) fail(path, 'a non-empty string');
  return value;
}

function numbers(value: unknown, path: string): number[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
    fail(path, 'an array of finite numbers');
  }
  return value as number[];
}

/**
 * Reads lc.json (text or parsed JSON) back into the scores selection needs; every field is checked,
 * and an error names the first one that is wrong.
 */
export function parseLc(input: string | unknown): LcScores {
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new ShortvError('E_INPUT_LC', `LC file is not valid JSON: ${(error as Error).message}`);
    }
  }
  const root = object(value, '$');
  const model = object(root.model, '$.model');
  const dims = object(root.dims, '$.dims');
  const tokens = object(root.tokens, '$.tokens');
  const calibration = object(root.calibration, '$.calibration');
  const numLayers = integer(model.numLayers, '$.model.numLayers', 1);
  const visual = numbers(root.visual, '$.visual');
  const textLc = numbers(root.text, '$.text');
  if (visual.length !== numLayers) fail('$.visual', `${numLayers} values (one per layer)`);
  if (textLc.length !== numLayers) fail('$.text', `${numLayers} values (one per layer)`);
  const headDim = dims.headDim === undefined ? undefined : integer(dims.headDim, '$.dims.headDim', 1);
  const seed =
    calibration.seed === undefined ? undefined : integer(calibration.seed, '$.calibration.seed', 0);
  return {
    visual,
    text: textLc,
    metric: text(root.metric, '$.metric'),
    samples: integer(root.samples, '$.samples', 1),
    model: {
      architecture: text(model.architecture, '$.model.architecture'),
      numLayers,
      hiddenSize: integer(model.hiddenSize, '$.model.hiddenSize', 1),
      fingerprint: text(model.fingerprint, '$.model.fingerprint'),
    },
    dims: {
      hiddenSize: integer(dims.hiddenSize, '$.dims.hiddenSize', 1),
      intermediateSize: integer(dims.intermediateSize, '$.dims.intermediateSize', 1),
      numLayers: integer(dims.numLayers, '$.dims.numLayers', 1),
      numHeads: integer(dims.numHeads, '$.dims.numHeads', 1),
      numKvHeads: integer(dims.numKvHeads, '$.dims.numKvHeads', 1),
      ...(headDim === undefined ? {} : { headDim }),
    },
    tokens: {
      visualTokens: integer(tokens.visualTokens, '$.tokens.visualTokens', 0),
      textTokens: integer(tokens.textTokens, '$.tokens.textTokens', 0),
    },
    calibration: {
      dataset: text(calibration.dataset, '$.calibration.dataset'),
      samples: integer(calibration.samples, '$.calibration.samples', 1),
      ...(seed === undefined ? {} : { seed }),
      createdWith: text(calibration.createdWith, '$.calibration.createdWith'),
    },
  };
}
