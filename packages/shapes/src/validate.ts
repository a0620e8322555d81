import { ShortvError } from '@shortv/tensor';
import {
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  type QuestionRecord,
  type SceneRecord,
  type ShapesManifest,
} from './records.ts';
import { MAX_COUNT, MAX_SEED } from './scene.ts';
import {
  CELL_NAMES,
  COLORS,
  FAMILIES,
  GRID,
  MAX_IMAGE_SIZE,
  MAX_OBJECTS,
  MIN_IMAGE_SIZE,
  MIN_OBJECTS,
  SHAPES,
  SIZES,
  SPLITS,
} from './vocabulary.ts';

type Json = Record<string, unknown>;

function fail(code: string, where: string, message: string): never {
  throw new ShortvError(code, `${where}: ${message}`);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function int(record: Json, key: string, where: string, min: number, max: number): number {
  const value = record[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(
      'E_DATA_RECORD',
      where,
      `"${key}" must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}.`,
    );
  }
  return value;
}

function num(record: Json, key: string, where: string): number {
  const value = record[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    fail('E_DATA_RECORD', where, `"${key}" must be a number, got ${JSON.stringify(value)}.`);
  }
  return value;
}

function str(record: Json, key: string, where: string): string {
  const value = record[key];
  if (typeof value !== 'string' || value.length === 0) {
    fail('E_DATA_RECORD', where, `"${key}" must be a non-empty string, got ${JSON.stringify(value)}.`);
  }
  return value;
}

function oneOf<T extends string>(record: Json, key: string, allowed: readonly T[], where: string): T {
  const value = record[key];
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    fail(
      'E_DATA_RECORD',
      where,
      `"${key}" must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}.`,
    );
  }
  return value as T;
}

function sameList(actual: unknown, expected: readonly string[]): boolean {
  return (
    Array.isArray(actual) && actual.length === expected.length && actual.every((v, i) => v === expected[i])
  );
}

/** Checks a parsed manifest.json; `where` names the file in errors. */
export function validateManifest(value: unknown, where: string): ShapesManifest {
  if (!isObject(value)) fail('E_DATA_MANIFEST', where, 'the manifest must be a JSON object.');
  if (value.format !== MANIFEST_FORMAT) {
    fail(
      'E_DATA_MANIFEST',
      where,
      `"format" must be "${MANIFEST_FORMAT}", got ${JSON.stringify(value.format)}.`,
    );
  }
  if (value.version !== MANIFEST_VERSION) {
    fail(
      'E_DATA_MANIFEST',
      where,
      `unsupported version ${JSON.stringify(value.version)} (this reader knows version ${MANIFEST_VERSION}).`,
    );
  }
  const split = oneOf(value, 'split', SPLITS, where);
  const seed = int(value, 'seed', where, 0, MAX_SEED);
  const count = int(value, 'count', where, 1, MAX_COUNT);
  const questions = int(value, 'questions', where, 0, Number.MAX_SAFE_INTEGER);
  const size = int(value, 'size', where, MIN_IMAGE_SIZE, MAX_IMAGE_SIZE);
  for (const [key, expected] of [
    ['families', FAMILIES],
    ['cellNames', CELL_NAMES],
    ['shapes', SHAPES],
    ['colors', COLORS],
    ['sizes', SIZES],
  ] as const) {
    if (!sameList(value[key], expected)) {
      fail(
        'E_DATA_MANIFEST',
        where,
        `"${key}" must be ${JSON.stringify(expected)}, got ${JSON.stringify(value[key])}.`,
      );
    }
  }
  const vocabulary = value.vocabulary;
  if (!Array.isArray(vocabulary) || !vocabulary.every((w) => typeof w === 'string')) {
    fail('E_DATA_MANIFEST', where, '"vocabulary" must be a list of strings.');
  }
  return {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    split,
    seed,
    count,
    questions,
    size,
    families: [...FAMILIES],
    vocabulary: vocabulary as string[],
    cellNames: [...CELL_NAMES],
    shapes: [...SHAPES],
    colors: [...COLORS],
    sizes: [...SIZES],
  };
}

/** Checks one parsed line of scenes.jsonl. */
export function validateSceneRecord(value: unknown, where: string): SceneRecord {
  if (!isObject(value)) fail('E_DATA_RECORD', where, 'each line must be a JSON object.');
  const id = str(value, 'id', where);
  const image = str(value, 'image', where);
  const split = oneOf(value, 'split', SPLITS, where);
  const seed = int(value, 'seed', where, 0, MAX_SEED);
  const index = int(value, 'index', where, 0, MAX_COUNT - 1);
  const size = int(value, 'size', where, MIN_IMAGE_SIZE, MAX_IMAGE_SIZE);
  const list = value.objects;
  if (!Array.isArray(list) || list.length < MIN_OBJECTS || list.length > MAX_OBJECTS) {
    fail('E_DATA_RECORD', where, `"objects" must be a list of ${MIN_OBJECTS} to ${MAX_OBJECTS} objects.`);
  }
  const used = new Set<number>();
  const objects = list.map((o: unknown, i: number) => {
    const at = `${where} objects[${i}]`;
    if (!isObject(o)) fail('E_DATA_RECORD', at, 'each object must be a JSON object.');
    const row = int(o, 'row', at, 0, GRID - 1);
    const col = int(o, 'col', at, 0, GRID - 1);
    if (used.has(row * GRID + col))
      fail('E_DATA_RECORD', at, `two objects share the cell at row ${row}, col ${col}.`);
    used.add(row * GRID + col);
    return {
      shape: oneOf(o, 'shape', SHAPES, at),
      color: oneOf(o, 'color', COLORS, at),
      size: oneOf(o, 'size', SIZES, at),
      row,
      col,
      cx: num(o, 'cx', at),
      cy: num(o, 'cy', at),
    };
  });
  return { id, image, split, seed, index, size, objects };
}

/** Checks one parsed line of data.jsonl. */
export function validateQuestionRecord(value: unknown, where: string): QuestionRecord {
  if (!isObject(value)) fail('E_DATA_RECORD', where, 'each line must be a JSON object.');
  return {
    id: str(value, 'id', where),
    imageId: str(value, 'imageId', where),
    image: str(value, 'image', where),
    split: oneOf(value, 'split', SPLITS, where),
    family: oneOf(value, 'family', FAMILIES, where),
    question: str(value, 'question', where),
    answer: str(value, 'answer', where),
  };
}
