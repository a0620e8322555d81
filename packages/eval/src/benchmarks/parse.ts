import type { BenchmarkIssue, BenchmarkItem, ParsedBenchmark } from './types.ts';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';
const idText = (v: unknown): string | null =>
  typeof v === 'number' && Number.isFinite(v) ? String(v) : nonEmpty(v) ? v : null;

/** 1-based line of character offset `at` in `text`. */
function lineAt(text: string, at: number): number {
  let line = 1;
  for (let i = 0; i < at && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Lines of successive occurrences of `"key"` in a JSON text: the k-th entry's line, for entries that each hold the key once. */
function keyLines(text: string, key: string): number[] {
  const lines: number[] = [];
  const needle = new RegExp(`"${key}"\\s*:`, 'g');
  let line = 1;
  let last = 0;
  for (let m = needle.exec(text); m !== null; m = needle.exec(text)) {
    for (let i = last; i < m.index; i++) if (text.charCodeAt(i) === 10) line++;
    last = m.index;
    lines.push(line);
  }
  return lines;
}

function parseJson(text: string, file: string): { value: unknown } | { issue: BenchmarkIssue } {
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    const message = (error as Error).message;
    const at = /position (\d+)/.exec(message);
    return {
      issue: {
        file,
        line: at ? lineAt(text, Number(at[1])) : 1,
        kind: 'malformed',
        message: `not valid JSON (${message})`,
      },
    };
  }
}

/** Category of a POPE file: its split name (random / popular / adversarial) when the file name has one. */
export function popeCategory(file: string): string {
  const stem = file.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '');
  return /adversarial|popular|random/.exec(stem)?.[0] ?? stem;
}

/**
 * POPE: JSONL of `{"question_id", "image", "text" | "question", "label": "yes" | "no"}` (optional
 * `category`; otherwise the file's split name).
 */
export function parsePope(text: string, file: string): ParsedBenchmark {
  const items: BenchmarkItem[] = [];
  const issues: BenchmarkIssue[] = [];
  const category = popeCategory(file);
  const parseLine = (raw: string, line: number): string | undefined => {
    const bad = (message: string) => message;
    let record: unknown;
    try {
      record = JSON.parse(raw);
    } catch (error) {
      return bad(`not valid JSON (${(error as Error).message})`);
    }
    if (!isObject(record)) return bad('expected an object {"image", "text", "label"}');
    const question = record.text ?? record.question;
    const label = typeof record.label === 'string' ? record.label.trim().toLowerCase() : record.label;
    if (!nonEmpty(record.image)) return bad('"image" must be a non-empty string');
    if (!nonEmpty(question)) return bad('"text" (or "question") must be a non-empty string');
    if (label !== 'yes' && label !== 'no')
      return bad(`"label" must be "yes" or "no", got ${JSON.stringify(record.label)}`);
    const id = idText(record.question_id) ?? `${category}-${line}`;
    items.push({
      id: `${category}/${id}`,
      format: 'pope',
      category: nonEmpty(record.category) ? record.category : category,
      question,
      answers: [label],
      image: record.image,
      source: { file, line },
    });
    return undefined;
  };
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    const message = parseLine(raw, i + 1);
    if (message !== undefined) issues.push({ file, line: i + 1, kind: 'malformed', message });
  });
  return { items, issues };
}

/** VQA images are named by a numeric id, COCO-style zero-padded to 12 digits (COCO_val2014_000000262148.jpg). */
function vqaImage(id: string): string {
  return /^\d+$/.test(id) ? id.padStart(12, '0') : id;
}

/**
 * VQAv2: a questions file `{"questions": [{question_id, image_id, question}]}` and an annotations file
 * `{"annotations": [{question_id, answers: [{answer}] x10, answer_type}]}`. TextVQA: one file
 * `{"data": [{question_id, image_id, question, answers: [string] x10}]}` (pass it as `questionsText` with
 * no annotations).
 */
export function parseVqa(
  questionsText: string,
  questionsFile: string,
  annotations: { text: string; file: string } | null,
): ParsedBenchmark {
  const items: BenchmarkItem[] = [];
  const issues: BenchmarkIssue[] = [];
  const parsed = parseJson(questionsText, questionsFile);
  if ('issue' in parsed) return { items, issues: [parsed.issue] };
  const root = parsed.value;
  const list = isObject(root) ? (root.questions ?? root.data) : undefined;
  if (!Array.isArray(list)) {
    issues.push({
      file: questionsFile,
      line: 1,
      kind: 'malformed',
      message: 'expected {"questions": [...]} (VQAv2) or {"data": [...]} (TextVQA)',
    });
    return { items, issues };
  }
  const answersById = new Map<string, { answers: string[]; type: string | null }>();
  if (annotations) {
    const ann = parseJson(annotations.text, annotations.file);
    if ('issue' in ann) return { items, issues: [ann.issue] };
    const entries = isObject(ann.value) ? ann.value.annotations : undefined;
    if (!Array.isArray(entries)) {
      issues.push({
        file: annotations.file,
        line: 1,
        kind: 'malformed',
        message: 'expected {"annotations": [...]}',
      });
      return { items, issues };
    }
    const lines = keyLines(annotations.text, 'question_id');
    entries.forEach((entry, k) => {
      const line = lines[k] ?? 1;
      const id = isObject(entry) ? idText(entry.question_id) : null;
      const answers = isObject(entry) && Array.isArray(entry.answers) ? entry.answers : null;
      const texts = answers?.map((a) => (isObject(a) ? a.answer : a));
      if (id === null || !texts || texts.length === 0 || !texts.every(nonEmpty)) {
        issues.push({
          file: annotations.file,
          line,
          kind: 'malformed',
          message: 'an annotation needs "question_id" and "answers": [{"answer": "..."}, ...]',
        });
        return;
      }
      const type = isObject(entry) && nonEmpty(entry.answer_type) ? entry.answer_type : null;
      answersById.set(id, { answers: texts as string[], type });
    });
  }
  const lines = keyLines(questionsText, 'question_id');
  const parseEntry = (entry: unknown, line: number): string | undefined => {
    const bad = (message: string) => message;
    if (!isObject(entry)) return bad('expected a question object');
    const id = idText(entry.question_id);
    const image = idText(entry.image_id);
    if (id === null) return bad('"question_id" is missing');
    if (image === null) return bad('"image_id" is missing');
    if (!nonEmpty(entry.question)) return bad('"question" must be a non-empty string');
    let answers: string[] | null = null;
    let type: string | null = nonEmpty(entry.answer_type) ? entry.answer_type : null;
    if (annotations) {
      const found = answersById.get(id);
      if (!found) return bad(`question ${id} has no annotation in ${annotations.file}`);
      answers = found.answers;
      type = found.type ?? type;
    } else if (Array.isArray(entry.answers) && entry.answers.length > 0 && entry.answers.every(nonEmpty)) {
      answers = entry.answers as string[];
    }
    if (!answers) return bad('"answers" must list the annotators\' answers');
    items.push({
      id,
      format: 'vqa',
      category: type ?? 'all',
      question: entry.question,
      answers,
      image: vqaImage(image),
      source: { file: questionsFile, line },
    });
    return undefined;
  };
  list.forEach((entry, k) => {
    const line = lines[k] ?? 1;
    const message = parseEntry(entry, line);
    if (message !== undefined) issues.push({ file: questionsFile, line, kind: 'malformed', message });
  });
  return { items, issues };
}

/** GQA: `{"<question id>": {"imageId", "question", "answer", "types": {"structural"}}}`. */
export function parseGqa(text: string, file: string): ParsedBenchmark {
  const items: BenchmarkItem[] = [];
  const issues: BenchmarkIssue[] = [];
  const parsed = parseJson(text, file);
  if ('issue' in parsed) return { items, issues: [parsed.issue] };
  const root = parsed.value;
  if (!isObject(root)) {
    return {
      items,
      issues: [{ file, line: 1, kind: 'malformed', message: 'expected {"<question id>": {...}}' }],
    };
  }
  const lines = keyLines(text, 'question');
  const parseEntry = (id: string, entry: unknown): string | undefined => {
    const bad = (message: string) => `question ${id}: ${message}`;
    if (!isObject(entry)) return bad('expected an object');
    const image = idText(entry.imageId);
    if (image === null) return bad('"imageId" is missing');
    if (!nonEmpty(entry.question)) return bad('"question" must be a non-empty string');
    if (!nonEmpty(entry.answer)) return bad('"answer" must be a non-empty string');
    const types = isObject(entry.types) ? entry.types : {};
    items.push({
      id,
      format: 'gqa',
      category: nonEmpty(types.structural) ? types.structural : 'all',
      question: entry.question,
      answers: [entry.answer],
      image,
      source: { file, line: lines[itemIndex++] ?? 1 },
    });
    return undefined;
  };
  let itemIndex = 0;
  Object.entries(root).forEach(([id, entry], k) => {
    const line = lines[k] ?? 1;
    itemIndex = k;
    const message = parseEntry(id, entry);
    if (message !== undefined) issues.push({ file, line, kind: 'malformed', message });
  });
  return { items, issues };
}

/** MME: one file per category, lines `image<TAB>question<TAB>answer` (Yes / No). */
export function parseMme(text: string, file: string, category: string): ParsedBenchmark {
  const items: BenchmarkItem[] = [];
  const issues: BenchmarkIssue[] = [];
  const parseLine = (raw: string, line: number): string | undefined => {
    const fields = raw.replace(/\r$/, '').split('\t');
    const bad = (message: string) => message;
    if (fields.length < 3)
      return bad(`expected image<TAB>question<TAB>answer, got ${fields.length} field(s)`);
    const [image, question, answer] = fields.map((f) => f.trim()) as [string, string, string];
    if (!image || !question) return bad('image and question must be non-empty');
    const label = answer.toLowerCase();
    if (label !== 'yes' && label !== 'no') return bad(`answer must be Yes or No, got "${answer}"`);
    items.push({
      id: `${category}/${line}`,
      format: 'mme',
      category,
      question,
      answers: [label],
      image,
      group: `${category}/${image}`,
      source: { file, line },
    });
    return undefined;
  };
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    const message = parseLine(raw, i + 1);
    if (message !== undefined) issues.push({ file, line: i + 1, kind: 'malformed', message });
  });
  return { items, issues };
}
