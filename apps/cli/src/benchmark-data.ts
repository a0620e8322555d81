import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import {
  BENCHMARK_FORMATS,
  type BenchmarkFormat,
  type BenchmarkIssue,
  type BenchmarkItem,
  parseGqa,
  parseMme,
  parsePope,
  parseVqa,
} from '@shortv/eval';
import { ShortvError } from '@shortv/tensor';
import { readDataset } from './data.ts';
import { parseQaJsonl } from './dataset-jsonl.ts';

/** An item whose image file was found. */
export interface ResolvedItem extends BenchmarkItem {
  imagePath: string;
}

export interface BenchmarkData {
  format: BenchmarkFormat;
  items: ResolvedItem[];
  issues: BenchmarkIssue[];
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.bmp', '.gif']);

type FileKind =
  | 'pope'
  | 'shapes-jsonl'
  | 'vqa-questions'
  | 'vqa-annotations'
  | 'textvqa'
  | 'gqa'
  | 'mme'
  | null;

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ShortvError('E_DATA_READ', `cannot read ${file}: ${(error as Error).message}`);
  }
}

/** What layout a file is in, from its extension and a look at its content. */
function kindOf(file: string): FileKind {
  const ext = extname(file).toLowerCase();
  if (ext === '.txt') return readText(file).includes('\t') ? 'mme' : null;
  if (ext !== '.json' && ext !== '.jsonl') return null;
  const text = readText(file);
  const firstLine = text.split('\n').find((l) => l.trim() !== '') ?? '';
  try {
    const first = JSON.parse(firstLine) as Record<string, unknown>;
    if ('label' in first && ('text' in first || 'question' in first)) return 'pope';
    if ('answer' in first && 'image' in first) return 'shapes-jsonl';
  } catch {
    // Not JSONL; try the whole file.
  }
  try {
    const root = JSON.parse(text) as Record<string, unknown>;
    if (Array.isArray(root.questions)) return 'vqa-questions';
    if (Array.isArray(root.annotations)) return 'vqa-annotations';
    if (Array.isArray(root.data)) return 'textvqa';
    const firstValue = Object.values(root)[0] as Record<string, unknown> | undefined;
    if (firstValue && typeof firstValue === 'object' && 'imageId' in firstValue) return 'gqa';
  } catch {
    // A malformed file of a guessed kind is reported by its parser; unknown files are ignored.
  }
  return ext === '.jsonl' ? 'pope' : null;
}

const FORMAT_OF_KIND: Record<Exclude<FileKind, null>, BenchmarkFormat> = {
  pope: 'pope',
  'shapes-jsonl': 'shapes',
  'vqa-questions': 'vqa',
  'vqa-annotations': 'vqa',
  textvqa: 'vqa',
  gqa: 'gqa',
  mme: 'mme',
};

function listFiles(dir: string, depth: number): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && depth > 0) out.push(...listFiles(path, depth - 1));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** Image files under `root`, by lower-case stem, for layouts that name images by id. */
function imageIndex(root: string): Map<string, string[]> {
  const index = new Map<string, string[]>();
  for (const file of listFiles(root, 3)) {
    if (!IMAGE_EXTENSIONS.has(extname(file).toLowerCase())) continue;
    const stem = basename(file, extname(file)).toLowerCase();
    index.set(stem, [...(index.get(stem) ?? []), file]);
  }
  return index;
}

function findImage(item: BenchmarkItem, index: Map<string, string[]>): string | null {
  const base = dirname(item.source.file);
  if (isAbsolute(item.image)) return existsSync(item.image) ? item.image : null;
  const dirs = [base, join(base, 'images')];
  if (item.format === 'mme') dirs.unshift(join(base, item.category), join(base, item.category, 'images'));
  for (const dir of dirs) {
    const path = join(dir, item.image);
    if (existsSync(path) && statSync(path).isFile()) return path;
  }
  const wanted = basename(item.image, extname(item.image)).toLowerCase();
  const exact = index.get(wanted)?.[0];
  if (exact) return exact;
  // COCO-style names carry the id at the end: COCO_val2014_000000000007.
  for (const [stem, files] of index) if (stem.endsWith(`_${wanted}`)) return files[0]!;
  return null;
}

/** Our JSONL, one line at a time, so a bad line is an issue and not the end of the file. */
function parseShapesJsonl(file: string): { items: BenchmarkItem[]; issues: BenchmarkIssue[] } {
  const items: BenchmarkItem[] = [];
  const issues: BenchmarkIssue[] = [];
  readText(file)
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        // Leading newlines keep the parser's own line numbers right in its messages.
        const [sample] = parseQaJsonl(`${'\n'.repeat(i)}${line}`, file, dirname(file));
        if (!sample) return;
        items.push({
          id: sample.id === `line-${i + 1}` ? `${basename(file)}:${i + 1}` : sample.id,
          format: 'shapes',
          category: sample.family,
          question: sample.question,
          answers: [sample.answer],
          image: sample.imagePath,
          source: { file, line: i + 1 },
        });
      } catch (error) {
        issues.push({
          file,
          line: i + 1,
          kind: 'malformed',
          message: (error as Error).message.replace(`${file}:${i + 1}: `, ''),
        });
      }
    });
  return { items, issues };
}

function parseFiles(
  format: BenchmarkFormat,
  files: { file: string; kind: FileKind }[],
): { items: BenchmarkItem[]; issues: BenchmarkIssue[] } {
  const items: BenchmarkItem[] = [];
  const issues: BenchmarkIssue[] = [];
  const add = (parsed: { items: BenchmarkItem[]; issues: BenchmarkIssue[] }) => {
    items.push(...parsed.items);
    issues.push(...parsed.issues);
  };
  const ofKind = (kind: FileKind) => files.filter((f) => f.kind === kind).map((f) => f.file);
  switch (format) {
    case 'pope':
      for (const file of ofKind('pope')) add(parsePope(readText(file), file));
      break;
    case 'gqa':
      for (const file of ofKind('gqa')) add(parseGqa(readText(file), file));
      break;
    case 'mme':
      for (const file of ofKind('mme')) add(parseMme(readText(file), file, basename(file, extname(file))));
      break;
    case 'shapes':
      for (const file of ofKind('shapes-jsonl')) add(parseShapesJsonl(file));
      break;
    case 'vqa': {
      const annotations = ofKind('vqa-annotations');
      for (const file of ofKind('textvqa')) add(parseVqa(readText(file), file, null));
      for (const file of ofKind('vqa-questions')) {
        if (annotations.length !== 1) {
          throw new ShortvError(
            'E_DATA_LAYOUT',
            `${file} holds VQA questions but ${annotations.length === 0 ? 'no' : annotations.length} annotation files sit next to it; put exactly one {"annotations": [...]} JSON file in the folder`,
          );
        }
        add(parseVqa(readText(file), file, { text: readText(annotations[0]!), file: annotations[0]! }));
      }
      break;
    }
  }
  return { items, issues };
}

/** Items of a shapes folder (manifest + data.jsonl, fully validated by its reader). */
function shapesFolder(dir: string): BenchmarkItem[] {
  return readDataset(dir).map((s, i) => ({
    id: s.id,
    format: 'shapes' as const,
    category: s.family,
    question: s.question,
    answers: [s.answer],
    image: s.imagePath,
    source: { file: join(dir, 'data.jsonl'), line: i + 1 },
  }));
}

/**
 * Reads `--data` in the given layout, or guesses the layout from the files (a shapes folder, POPE JSONL,
 * VQAv2 questions + annotations, TextVQA, GQA questions, MME per-category TSV files). Malformed lines and
 * missing images come back as issues naming the file and line; the caller decides to skip or fail.
 */
export function readBenchmark(path: string, format: BenchmarkFormat | undefined): BenchmarkData {
  const abs = resolve(path);
  if (!existsSync(abs)) {
    throw new ShortvError(
      'E_DATA_NOT_FOUND',
      `${abs} does not exist: pass --data with a benchmark file or folder`,
    );
  }
  const isDir = statSync(abs).isDirectory();
  const root = isDir ? abs : dirname(abs);
  if (isDir && existsSync(join(abs, 'manifest.json')) && (format === undefined || format === 'shapes')) {
    return resolveImages('shapes', shapesFolder(abs), [], root);
  }
  const files = (isDir ? listFiles(abs, 1) : [abs]).map((file) => ({ file, kind: kindOf(file) }));
  if (!isDir && files[0]!.kind === 'vqa-questions') {
    // A questions file: its annotations sit next to it.
    for (const file of listFiles(root, 0)) {
      if (file !== abs && kindOf(file) === 'vqa-annotations') files.push({ file, kind: 'vqa-annotations' });
    }
  }
  const found = [...new Set(files.flatMap((f) => (f.kind ? [FORMAT_OF_KIND[f.kind]] : [])))];
  let chosen = format;
  if (chosen === undefined) {
    if (found.length !== 1) {
      throw new ShortvError(
        'E_DATA_FORMAT',
        found.length === 0
          ? `cannot tell the layout of ${abs}: pass --format (${BENCHMARK_FORMATS.join(' | ')})`
          : `${abs} holds files of several layouts (${found.join(', ')}): pass --format to pick one`,
      );
    }
    chosen = found[0]!;
  }
  if (!found.includes(chosen)) {
    throw new ShortvError(
      'E_DATA_FORMAT',
      `${abs} holds no ${chosen} files${found.length ? ` (it looks like ${found.join(', ')})` : ''}; check --format and --data`,
    );
  }
  const parsed = parseFiles(chosen, files);
  return resolveImages(chosen, parsed.items, parsed.issues, root);
}

function resolveImages(
  format: BenchmarkFormat,
  items: BenchmarkItem[],
  issues: BenchmarkIssue[],
  root: string,
): BenchmarkData {
  const index = imageIndex(root);
  const resolved: ResolvedItem[] = [];
  const all = [...issues];
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(item.id)) {
      all.push({ ...item.source, kind: 'malformed', message: `duplicate question id "${item.id}"` });
      continue;
    }
    seen.add(item.id);
    const imagePath = findImage(item, index);
    if (imagePath === null) {
      all.push({
        ...item.source,
        kind: 'missing-image',
        message: `image "${item.image}" not found (looked next to the file, in images/ and under ${relative(process.cwd(), root) || '.'})`,
      });
      continue;
    }
    resolved.push({ ...item, imagePath });
  }
  all.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
  return { format, items: resolved, issues: all };
}
