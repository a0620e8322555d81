import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { decodeImageFile } from '@shortv/runtime-node';
import type { QuestionRecord } from '@shortv/shapes';
import { readShapesDataset } from '@shortv/shapes/node';
import { ShortvError } from '@shortv/tensor';

export interface DatasetSample {
  id: string;
  family: string;
  question: string;
  answer: string;
  imagePath: string;
}

/** Reads a shapes-format dataset folder (data.jsonl + images) with errors that name the problem. */
export function readDataset(dir: string): DatasetSample[] {
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) {
    throw new ShortvError(
      'E_DATA_NOT_FOUND',
      `data folder ${abs} does not exist: pass --data with a dataset folder`,
    );
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
