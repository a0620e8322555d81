import { ShortvError } from '@shortv/tensor';
import { hash32, Rng } from './random.ts';
import {
  COLORS,
  type Color,
  DEFAULT_IMAGE_SIZE,
  GRID,
  MAX_IMAGE_SIZE,
  MAX_OBJECTS,
  MIN_IMAGE_SIZE,
  MIN_OBJECTS,
  type ObjectSize,
  SHAPES,
  type Shape,
  SIZES,
  SPLITS,
  type Split,
} from './vocabulary.ts';

export interface SceneObject {
  shape: Shape;
  color: Color;
  size: ObjectSize;
  /** 0 = top, 2 = bottom. */
  row: number;
  /** 0 = left, 2 = right. */
  col: number;
  /** Centre in pixel coordinates: pixel (x, y) covers [x, x + 1) x [y, y + 1). */
  cx: number;
  cy: number;
}

export interface Scene {
  id: string;
  split: Split;
  seed: number;
  index: number;
  /** Image side in pixels. */
  size: number;
  /** In reading order (row, then column); at most one per cell. */
  objects: SceneObject[];
}

export interface SampleKey {
  split: Split;
  seed: number;
  index: number;
  size?: number;
}

export const MAX_SEED = 0xffffffff;
/** Image ids carry the index in six digits. */
export const MAX_COUNT = 1_000_000;

export function checkSampleKey(key: SampleKey): Required<SampleKey> {
  const size = key.size ?? DEFAULT_IMAGE_SIZE;
  if (!SPLITS.includes(key.split)) {
    throw new ShortvError('E_INPUT_SPLIT', `unknown split "${key.split}": use one of ${SPLITS.join(', ')}.`);
  }
  if (!Number.isInteger(key.seed) || key.seed < 0 || key.seed > MAX_SEED) {
    throw new ShortvError('E_INPUT_SEED', `seed must be an integer from 0 to ${MAX_SEED}, got ${key.seed}.`);
  }
  if (!Number.isInteger(key.index) || key.index < 0 || key.index >= MAX_COUNT) {
    throw new ShortvError(
      'E_INPUT_INDEX',
      `index must be an integer from 0 to ${MAX_COUNT - 1}, got ${key.index}.`,
    );
  }
  if (!Number.isInteger(size) || size < MIN_IMAGE_SIZE || size > MAX_IMAGE_SIZE || size % GRID !== 0) {
    throw new ShortvError(
      'E_INPUT_SIZE',
      `image size must be a multiple of ${GRID} from ${MIN_IMAGE_SIZE} to ${MAX_IMAGE_SIZE}, got ${size}.`,
    );
  }
  return { split: key.split, seed: key.seed, index: key.index, size };
}

export function sampleId(split: Split, seed: number, index: number): string {
  return `${split}-${seed}-${String(index).padStart(6, '0')}`;
}

/**
 * Which split a scene's content belongs to, from a hash of its layout and attributes (jitter and
 * image size excluded). Generators only keep scenes of their own split, so no two splits ever
 * hold the same scene, whatever the seeds: 80% of contents are train, 10% calibration, 10% test.
 */
export function contentSplit(
  objects: readonly Pick<SceneObject, 'shape' | 'color' | 'size' | 'row' | 'col'>[],
) {
  const key = objects.map((o) => `${o.row}${o.col}:${o.size}:${o.color}:${o.shape}`).join(';');
  const bucket = hash32(`shortv.shapes.content|${key}`) % 10;
  const split: Split = bucket === 0 ? 'test' : bucket === 1 ? 'calibration' : 'train';
  return split;
}

function drawObjects(rng: Rng, cell: number): SceneObject[] {
  const count = MIN_OBJECTS + rng.int(MAX_OBJECTS - MIN_OBJECTS + 1);
  const cells = rng
    .shuffled(Array.from({ length: GRID * GRID }, (_, i) => i))
    .slice(0, count)
    .sort((a, b) => a - b);
  return cells.map((c) => {
    const row = Math.floor(c / GRID);
    const col = c % GRID;
    const shape = rng.pick(SHAPES);
    const color = rng.pick(COLORS);
    const size = rng.pick(SIZES);
    const jitterX = rng.int(3) - 1;
    const jitterY = rng.int(3) - 1;
    return {
      shape,
      color,
      size,
      row,
      col,
      cx: col * cell + cell / 2 + jitterX,
      cy: row * cell + cell / 2 + jitterY,
    };
  });
}

/** The scene for (split, seed, index): a pure function of those (and the image size). */
export function generateScene(key: SampleKey): Scene {
  const { split, seed, index, size } = checkSampleKey(key);
  const rng = new Rng(`shortv.shapes.scene|${split}|${seed}|${index}`);
  const cell = size / GRID;
  let objects = drawObjects(rng, cell);
  while (contentSplit(objects) !== split) objects = drawObjects(rng, cell);
  return { id: sampleId(split, seed, index), split, seed, index, size, objects };
}
