import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** A fenced code block of a README marked to run in CI: ```ts runnable or ```sh runnable [options]. */
export interface RunnableBlock {
  /** README path relative to the repository root, and the block's first line there. */
  file: string;
  line: number;
  lang: 'ts' | 'sh';
  code: string;
  /** `cwd=repo`: run in the repository root instead of a fresh temporary folder. */
  inRepo: boolean;
  /** `timeout=SECONDS`, default 120. */
  timeoutSeconds: number;
}

const FENCE = /^(`{3,})(\S*)(.*)$/;

/** Every block of one Markdown text whose info string carries the word `runnable`. */
export function runnableBlocks(markdown: string, file: string): RunnableBlock[] {
  const blocks: RunnableBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const [, ticks, lang, rest] = open as unknown as [string, string, string, string];
    const words = rest.trim().split(/\s+/).filter(Boolean);
    const end = lines.findIndex((l, j) => j > i && l.startsWith(ticks) && l.trim() === ticks);
    if (end < 0) throw new Error(`${file}:${i + 1}: code block is not closed`);
    if (words.includes('runnable')) {
      if (lang !== 'ts' && lang !== 'sh') {
        throw new Error(`${file}:${i + 1}: only ts and sh blocks can be runnable, not "${lang}"`);
      }
      const timeout = words.find((w) => w.startsWith('timeout='));
      blocks.push({
        file,
        line: i + 1,
        lang,
        code: lines.slice(i + 1, end).join('\n'),
        inRepo: words.includes('cwd=repo'),
        timeoutSeconds: timeout ? Number(timeout.slice('timeout='.length)) : 120,
      });
    }
    i = end;
  }
  return blocks;
}

const SKIP = new Set(['node_modules', 'dist', '.git', '.turbo', '.cache', 'coverage']);

/** The README.md files of the repository (root, packages, apps, tooling), relative paths, sorted. */
export function readmeFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    for (const name of readdirSync(dir)) {
      if (SKIP.has(name)) continue;
      const path = join(dir, name);
      if (name === 'README.md') found.push(relative(root, path));
      else if (depth < 2 && statSync(path).isDirectory()) walk(path, depth + 1);
    }
  };
  walk(root, 0);
  return found.sort();
}

export function readmeBlocks(root: string): RunnableBlock[] {
  return readmeFiles(root).flatMap((file) => runnableBlocks(readFileSync(join(root, file), 'utf8'), file));
}
