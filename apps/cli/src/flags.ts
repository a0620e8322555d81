import type { CommandContext } from './command.ts';
import { UsageError } from './errors.ts';

export function stringFlag(ctx: CommandContext, name: string): string | undefined {
  const value = ctx.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function requiredStringFlag(ctx: CommandContext, name: string, usage: string): string {
  const value = stringFlag(ctx, name);
  if (value === undefined || value.trim() === '')
    throw new UsageError(`--${name} is required.\nUsage: ${usage}`);
  return value;
}

/** An integer flag in [min, max]; `fallback` when absent, or an error naming the flag when required. */
export function integerFlag(
  ctx: CommandContext,
  name: string,
  min: number,
  max: number,
  fallback?: number,
  usage?: string,
): number {
  const raw = stringFlag(ctx, name);
  if (raw === undefined) {
    if (fallback !== undefined) return fallback;
    throw new UsageError(`--${name} is required.${usage ? `\nUsage: ${usage}` : ''}`);
  }
  const value = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${raw}".`);
  }
  return value;
}

/** A finite number flag in [min, max] (inclusive unless `exclusiveMin`). */
export function numberFlag(
  ctx: CommandContext,
  name: string,
  range: { min: number; max: number; exclusiveMin?: boolean },
  fallback?: number,
): number | undefined {
  const raw = stringFlag(ctx, name);
  if (raw === undefined) return fallback;
  const value = raw.trim() === '' ? Number.NaN : Number(raw);
  const low = range.exclusiveMin ? value > range.min : value >= range.min;
  if (!Number.isFinite(value) || !low || value > range.max) {
    const bracket = range.exclusiveMin ? '(' : '[';
    throw new UsageError(
      `--${name} must be a number in ${bracket}${range.min}, ${range.max}], got "${raw}".`,
    );
  }
  return value;
}

export function rejectPositionals(ctx: CommandContext, usage: string): void {
  if (ctx.positionals.length > 0) {
    throw new UsageError(`unexpected argument "${ctx.positionals[0]}".\nUsage: ${usage}`);
  }
}
