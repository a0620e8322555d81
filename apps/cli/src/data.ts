import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { decodeImageFile } from '@shortv/runtime-node';
import type { QuestionRecord } from '@shortv/shapes';
import { readShapesDataset } from '@shortv/shapes/node';
import { ShortvError } from '@shortv/tensor';
import { type DatasetSample, parseQaJsonl } from './dataset-jsonl.ts';

export type { DatasetSample } from './dataset-jsonl.ts';

/** What `--data` accepts, for help texts and errors. */
export const DATA_FORMATS =
  'a JSONL file of {"image", "question", "answer"} records (image paths relative to the file), ' +
  'a folder holding such a data.jsonl, or a folder made by `shortv dataset shapes`';

function readJsonlFile(file: string): DatasetSample[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ShortvError('E_DATA_READ', `cannot read ${file}: ${(error as Error).message}`);
  }
  const samples = parseQaJsonl(text, file, dirname(file));
  if (samples.length === 0) throw new ShortvError('E_DATA_EMPTY', `${file} holds no questions`);
  return samples;
}

/**
 * Reads calibration/eval data: a JSONL file of {image, question, answer}, or a folder with data.jsonl
 * (a shapes folder, with its manifest, is checked in full). Errors name the problem.
 */
export function readDataset(path: string): DatasetSample[] {
  const abs = resolve(path);
  if (!existsSync(abs)) {
    throw new ShortvError('E_DATA_NOT_FOUND', `${abs} does not exist: pass --data with ${DATA_FORMATS}`);
  }
  if (statSync(abs).isFile()) return readJsonlFile(abs);
  if (!existsSync(join(abs, 'manifest.json'))) {
    if (!existsSync(join(abs, 'data.jsonl'))) {
      throw new ShortvError('E_DATA_NOT_FOUND', `${abs} has no data.jsonl: pass --data with ${DATA_FORMATS}`);
    }
    return readJsonlFile(join(abs, 'data.jsonl'));
  }
  const dataset = readShapesDataset(abs);
  if (dataset.questions.length === 0) {
    throw new ShortvError('E_DATA_EMPTY', `data folder ${abs} holds no questions (data.jsonl is empty)`);
  }
  return dataset.questions.map((q: QuestionRecord) => ({
    id: q.id,
    family: q.family,
    question: q.question,
    answer: q.answer,
    imagePath: resolve(abs, q.image),
  }));
}

/**
 * The name a plan records for the data: the file or folder name, never a path of this machine
 * (a shapes folder is named by its split and seed).
 */
export function datasetName(path: string): string {
  const abs = resolve(path);
  try {
    const manifest = JSON.parse(readFileSync(join(abs, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    if (typeof manifest.split === 'string' && typeof manifest.seed === 'number') {
      return `shapes ${manifest.split} split (seed ${manifest.seed})`;
    }
  } catch {
    // Not a shapes folder: its name will do.
  }
  return basename(abs);
}

/** Decodes images once per file, however many questions share it. */
export function imageLoader(): (path: string) => ReturnType<typeof decodeImageFile> {
  const cache = new Map<string, ReturnType<typeof decodeImageFile>>();
  return (path) => {
    let image = cache.get(path);
    if (!image) {
      image = decodeImageFile(path);
      cache.set(path, image);
    }
    return image;
  };
}
