import { encodePng } from './png.ts';
import { generateQuestions, type QuestionAnswer } from './questions.ts';
import { type RgbImage, renderScene } from './render.ts';
import { generateScene, type SampleKey, type Scene, type SceneObject } from './scene.ts';
import {
  CELL_NAMES,
  COLORS,
  FAMILIES,
  type Family,
  SHAPES,
  SIZES,
  type Split,
  shapesVocabulary,
} from './vocabulary.ts';

/** One line of scenes.jsonl. */
export interface SceneRecord {
  id: string;
  image: string;
  split: Split;
  seed: number;
  index: number;
  size: number;
  objects: SceneObject[];
}

/** One line of data.jsonl. */
export interface QuestionRecord {
  id: string;
  imageId: string;
  image: string;
  split: Split;
  family: Family;
  question: string;
  answer: string;
}

/** manifest.json. */
export interface ShapesManifest {
  format: 'shortv.shapes';
  version: 1;
  split: Split;
  seed: number;
  /** Number of images. */
  count: number;
  /** Number of questions (lines of data.jsonl). */
  questions: number;
  size: number;
  families: Family[];
  vocabulary: string[];
  cellNames: string[];
  shapes: string[];
  colors: string[];
  sizes: string[];
}

export const MANIFEST_FORMAT = 'shortv.shapes';
export const MANIFEST_VERSION = 1;

export interface ShapesSample {
  scene: SceneRecord;
  image: RgbImage;
  questions: QuestionRecord[];
}

/** Path of an image relative to the dataset folder. */
export function imagePath(id: string): string {
  return `images/${id}.png`;
}

export function sceneRecord(scene: Scene): SceneRecord {
  return {
    id: scene.id,
    image: imagePath(scene.id),
    split: scene.split,
    seed: scene.seed,
    index: scene.index,
    size: scene.size,
    objects: scene.objects.map((o) => ({ ...o })),
  };
}

export function questionRecords(scene: Scene, qas: readonly QuestionAnswer[]): QuestionRecord[] {
  return qas.map((qa, k) => ({
    id: `${scene.id}-q${k}`,
    imageId: scene.id,
    image: imagePath(scene.id),
    split: scene.split,
    family: qa.family,
    question: qa.question,
    answer: qa.answer,
  }));
}

/** Everything one dataset row holds: scene graph, pixels and questions. */
export function generateSample(key: SampleKey): ShapesSample {
  const scene = generateScene(key);
  return {
    scene: sceneRecord(scene),
    image: renderScene(scene),
    questions: questionRecords(scene, generateQuestions(scene)),
  };
}

/** A sample with its PNG bytes, as written to disk. */
export function generateSamplePng(key: SampleKey): ShapesSample & { png: Uint8Array } {
  const sample = generateSample(key);
  return { ...sample, png: encodePng(sample.image) };
}

export function buildManifest(options: {
  split: Split;
  seed: number;
  count: number;
  questions: number;
  size: number;
}): ShapesManifest {
  return {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    split: options.split,
    seed: options.seed,
    count: options.count,
    questions: options.questions,
    size: options.size,
    families: [...FAMILIES],
    vocabulary: shapesVocabulary(),
    cellNames: [...CELL_NAMES],
    shapes: [...SHAPES],
    colors: [...COLORS],
    sizes: [...SIZES],
  };
}
