import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ShortvError } from '@shortv/tensor';
import { decodePng } from '../png.ts';
import { imagePath, type QuestionRecord, type SceneRecord, type ShapesManifest } from '../records.ts';
import type { RgbImage } from '../render.ts';
import { validateManifest, validateQuestionRecord, validateSceneRecord } from '../validate.ts';

export interface ShapesDataset {
  dir: string;
  manifest: ShapesManifest;
  scenes: SceneRecord[];
  questions: QuestionRecord[];
}

export interface ReadShapesOptions {
  /** Check that every image file exists (default true). */
  checkImages?: boolean;
}

function readText(path: string): string {
  if (!existsSync(path)) {
    throw new ShortvError(
      'E_DATA_MISSING',
      `${path} not found: this is not a finished shapes dataset (write one with \`shortv dataset shapes\`).`,
    );
  }
  return readFileSync(path, 'utf8');
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ShortvError('E_DATA_JSON', `${where}: invalid JSON (${(error as Error).message}).`, {
      cause: error,
    });
  }
}

function readLines<T>(path: string, validate: (value: unknown, where: string) => T): T[] {
  const lines = readText(path).split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((line, i) => {
    const where = `${path}:${i + 1}`;
    if (line.trim() === '') throw new ShortvError('E_DATA_JSON', `${where}: empty line.`);
    return validate(parseJson(line, where), where);
  });
}

function mismatch(where: string, message: string): ShortvError {
  return new ShortvError('E_DATA_RECORD', `${where}: ${message}`);
}

/**
 * Reads and checks a dataset written by writeShapesDataset: the manifest, every line of
 * scenes.jsonl and data.jsonl (fields, cross references, counts) and, by default, that each
 * image exists. Errors (code E_DATA_*) name the file and line.
 */
export function readShapesDataset(dir: string, options: ReadShapesOptions = {}): ShapesDataset {
  const root = resolve(dir);
  const manifestPath = join(root, 'manifest.json');
  const manifest = validateManifest(parseJson(readText(manifestPath), manifestPath), manifestPath);

  const scenesPath = join(root, 'scenes.jsonl');
  const scenes = readLines(scenesPath, validateSceneRecord);
  const byId = new Map<string, SceneRecord>();
  scenes.forEach((scene, i) => {
    const where = `${scenesPath}:${i + 1}`;
    if (scene.split !== manifest.split || scene.seed !== manifest.seed || scene.size !== manifest.size) {
      throw mismatch(where, `split/seed/size differ from ${manifestPath}.`);
    }
    if (scene.image !== imagePath(scene.id))
      throw mismatch(where, `"image" must be "${imagePath(scene.id)}".`);
    if (byId.has(scene.id)) throw mismatch(where, `duplicate id "${scene.id}".`);
    byId.set(scene.id, scene);
    if (options.checkImages !== false && !existsSync(join(root, scene.image))) {
      throw new ShortvError('E_DATA_MISSING', `${where}: image ${join(root, scene.image)} not found.`);
    }
  });
  if (scenes.length !== manifest.count) {
    throw new ShortvError(
      'E_DATA_COUNT',
      `${scenesPath} has ${scenes.length} scenes but ${manifestPath} says count ${manifest.count}.`,
    );
  }

  const dataPath = join(root, 'data.jsonl');
  const questions = readLines(dataPath, validateQuestionRecord);
  const ids = new Set<string>();
  questions.forEach((q, i) => {
    const where = `${dataPath}:${i + 1}`;
    const scene = byId.get(q.imageId);
    if (!scene) throw mismatch(where, `imageId "${q.imageId}" is not in ${scenesPath}.`);
    if (q.image !== scene.image || q.split !== scene.split) {
      throw mismatch(where, `image/split differ from scene "${scene.id}".`);
    }
    if (ids.has(q.id)) throw mismatch(where, `duplicate id "${q.id}".`);
    ids.add(q.id);
  });
  if (questions.length !== manifest.questions) {
    throw new ShortvError(
      'E_DATA_COUNT',
      `${dataPath} has ${questions.length} questions but ${manifestPath} says ${manifest.questions}.`,
    );
  }
  return { dir: root, manifest, scenes, questions };
}

/** Decodes the image of a scene (or question) record of the dataset in dir. */
export function readShapesImage(dir: string, record: Pick<SceneRecord, 'image'>): RgbImage {
  const path = join(resolve(dir), record.image);
  if (!existsSync(path)) throw new ShortvError('E_DATA_MISSING', `image ${path} not found.`);
  return decodePng(readFileSync(path));
}
