export { normalizeAnswer } from './normalize.ts';
export { decodePng, encodePng } from './png.ts';
export type { QuestionAnswer } from './questions.ts';
export { describeScene, generateQuestions, relationHolds, uniqueDescriptions } from './questions.ts';
export { hash32, hashString, Rng } from './random.ts';
export type { QuestionRecord, SceneRecord, ShapesManifest, ShapesSample } from './records.ts';
export {
  buildManifest,
  generateSample,
  generateSamplePng,
  imagePath,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  questionRecords,
  sceneRecord,
} from './records.ts';
export type { RgbImage } from './render.ts';
export { objectHalfExtent, renderScene } from './render.ts';
export type { SampleKey, Scene, SceneObject } from './scene.ts';
export { checkSampleKey, contentSplit, generateScene, MAX_COUNT, MAX_SEED, sampleId } from './scene.ts';
export { validateManifest, validateQuestionRecord, validateSceneRecord } from './validate.ts';
export type { CellName, Color, Family, ObjectSize, Shape, Split } from './vocabulary.ts';
export {
  BACKGROUND_RGB,
  CELL_NAMES,
  COLOR_RGB,
  COLORS,
  cellName,
  DEFAULT_IMAGE_SIZE,
  FAMILIES,
  GRID,
  MAX_IMAGE_SIZE,
  MAX_OBJECTS,
  MIN_IMAGE_SIZE,
  MIN_OBJECTS,
  plural,
  SHAPES,
  SIZE_FRACTION,
  SIZES,
  SPLITS,
  shapesVocabulary,
  tokenize,
} from './vocabulary.ts';

export const PACKAGE_NAME = '@shortv/shapes';
