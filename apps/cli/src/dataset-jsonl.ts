import { isAbsolute, resolve } from 'node:path';
import { ShortvError } from '@shortv/tensor';

/** One visual question with its reference answer and the image file it is about. */
export interface DatasetSample {
  id: string;
  family: string;
  question: string;
  answer: string;
  imagePath: string;
}

const MAX_FIELD_CHARS = 100_000;

function field(
  record: Record<string, unknown>,
  name: string,
  where: string,
  required: boolean,
): string | undefined {
  const value = record[name];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ShortvError(
      'E_DATA_RECORD',
      `${where}: "${name}" must be a non-empty string${value === undefined ? ' (it is missing)' : ''}`,
    );
  }
  if (value.length > MAX_FIELD_CHARS) {
    throw new ShortvError(
      'E_DATA_RECORD',
      `${where}: "${name}" is longer than ${MAX_FIELD_CHARS} characters`,
    );
  }
  return value;
}

/**
 * Parses a JSONL file of `{image, question, answer}` records (optional `id` and `family`); `image` is a
 * path relative to `baseDir` (the file's folder) or absolute. Blank lines are skipped; any other line
 * that is not such a record is an error naming its line.
 */
export function parseQaJsonl(text: string, source: string, baseDir: string): DatasetSample[] {
  const samples: DatasetSample[] = [];
  const ids = new Set<string>();
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const where = `${source}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new ShortvError('E_DATA_JSON', `${where}: not valid JSON (${(error as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ShortvError('E_DATA_RECORD', `${where}: expected an object {"image", "question", "answer"}`);
    }
    const record = value as Record<string, unknown>;
    const image = field(record, 'image', where, true)!;
    if (image.includes('\0'))
      throw new ShortvError('E_DATA_RECORD', `${where}: "image" holds a NUL character`);
    const id = field(record, 'id', where, false) ?? `line-${i + 1}`;
    if (ids.has(id)) throw new ShortvError('E_DATA_RECORD', `${where}: duplicate id "${id}"`);
    ids.add(id);
    samples.push({
      id,
      family: field(record, 'family', where, false) ?? 'custom',
      question: field(record, 'question', where, true)!,
      answer: field(record, 'answer', where, true)!,
      imagePath: isAbsolute(image) ? image : resolve(baseDir, image),
    });
  }
  return samples;
}
