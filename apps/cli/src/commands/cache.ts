import { clearCache, listCacheItems } from '@shortv/runtime-node';
import type { Command, CommandContext } from '../command.ts';
import { UsageError } from '../errors.ts';
import { rejectPositionals } from '../flags.ts';
import { cacheDir, MODEL_OPTION_HELP } from '../model.ts';

const LS_USAGE = 'shortv cache ls [--cache-dir DIR] [--json]';
const CLEAR_USAGE = 'shortv cache clear [--cache-dir DIR] [--json]';

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

async function dirOf(ctx: CommandContext): Promise<string> {
  const dir = await cacheDir({ ...ctx, values: { ...ctx.values, 'no-cache': false } });
  if (dir === undefined) throw new UsageError('no cache directory: pass --cache-dir DIR');
  return dir;
}

const CACHE_OPTIONS = { 'cache-dir': { type: 'string' } } as const;
const CACHE_HELP = { 'cache-dir': MODEL_OPTION_HELP['cache-dir']! };

export const cacheLsCommand: Command = {
  path: ['cache', 'ls'],
  summary: 'List the cache: weights files and graphs, their sizes and last use',
  usage: LS_USAGE,
  options: CACHE_OPTIONS,
  optionHelp: CACHE_HELP,
  async run(ctx) {
    rejectPositionals(ctx, LS_USAGE);
    const dir = await dirOf(ctx);
    const items = (await listCacheItems(dir)).reverse();
    const total = items.reduce((n, i) => n + i.bytes, 0);
    if (ctx.json) {
      ctx.io.stdout(
        `${JSON.stringify({
          dir,
          totalBytes: total,
          items: items.map((i) => ({
            kind: i.kind,
            files: i.files,
            bytes: i.bytes,
            lastUsed: i.lastUsed.toISOString(),
          })),
        })}\n`,
      );
      return 0;
    }
    ctx.io.stdout(`${dir}: ${items.length} items, ${formatBytes(total)} (most recently used first)\n`);
    for (const item of items) {
      const name =
        item.kind === 'weights'
          ? (item.files.find((f) => f.endsWith('.bin')) ?? item.files[0])
          : item.files[0];
      ctx.io.stdout(
        `  ${item.kind.padEnd(7)}  ${formatBytes(item.bytes).padStart(10)}  ${item.lastUsed.toISOString()}  ${name}\n`,
      );
    }
    return 0;
  },
};

export const cacheClearCommand: Command = {
  path: ['cache', 'clear'],
  summary: 'Remove every weights file and graph from the cache',
  usage: CLEAR_USAGE,
  options: CACHE_OPTIONS,
  optionHelp: CACHE_HELP,
  async run(ctx) {
    rejectPositionals(ctx, CLEAR_USAGE);
    const dir = await dirOf(ctx);
    const removed = await clearCache(dir);
    if (ctx.json)
      ctx.io.stdout(`${JSON.stringify({ dir, removedItems: removed.items, removedBytes: removed.bytes })}\n`);
    else ctx.io.stdout(`removed ${removed.items} items (${formatBytes(removed.bytes)}) from ${dir}\n`);
    return 0;
  },
};
