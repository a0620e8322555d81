/** The closed sets every scene, question and answer is drawn from. */

export const SHAPES = ['circle', 'square', 'triangle', 'diamond'] as const;
export type Shape = (typeof SHAPES)[number];

export const COLORS = ['red', 'green', 'blue', 'yellow', 'purple', 'orange'] as const;
export type Color = (typeof COLORS)[number];

export const SIZES = ['small', 'large'] as const;
export type ObjectSize = (typeof SIZES)[number];

export const SPLITS = ['train', 'calibration', 'test'] as const;
export type Split = (typeof SPLITS)[number];

export const FAMILIES = [
  'color_of_shape',
  'shape_of_color',
  'count',
  'exists',
  'position',
  'relation',
  'describe',
] as const;
export type Family = (typeof FAMILIES)[number];

/** Cell names indexed by row * 3 + col (rows top to bottom, columns left to right). */
export const CELL_NAMES = [
  'top left',
  'top',
  'top right',
  'left',
  'center',
  'right',
  'bottom left',
  'bottom',
  'bottom right',
] as const;
export type CellName = (typeof CELL_NAMES)[number];

export const GRID = 3;
export const MIN_OBJECTS = 1;
export const MAX_OBJECTS = 6;

/** Saturated colours far apart in RGB (and from the background), so a pixel names its object. */
export const COLOR_RGB: Readonly<Record<Color, readonly [number, number, number]>> = {
  red: [220, 30, 30],
  green: [30, 170, 50],
  blue: [30, 70, 220],
  yellow: [240, 210, 20],
  purple: [140, 40, 190],
  orange: [250, 130, 10],
};

export const BACKGROUND_RGB: readonly [number, number, number] = [240, 240, 240];

/** Fraction of the cell side that an object's bounding box spans. */
export const SIZE_FRACTION: Readonly<Record<ObjectSize, number>> = { large: 0.8, small: 0.45 };

export const DEFAULT_IMAGE_SIZE = 72;
export const MIN_IMAGE_SIZE = 30;
export const MAX_IMAGE_SIZE = 768;

export function cellName(row: number, col: number): CellName {
  const name = CELL_NAMES[row * GRID + col];
  if (name === undefined) throw new RangeError(`no cell at row ${row}, column ${col}`);
  return name;
}

export function plural(shape: Shape): string {
  return `${shape}s`;
}

/** Splits text into the tokens the vocabulary lists: whole words, with "?" and "." on their own. */
export function tokenize(text: string): string[] {
  return text
    .replace(/([?.])/g, ' $1 ')
    .split(/\s+/)
    .filter((token) => token.length > 0);
}

/** Every token that can appear in a question or an answer, sorted (code-point order). */
export function shapesVocabulary(): string[] {
  const words = new Set<string>();
  const add = (text: string) => {
    for (const token of tokenize(text)) words.add(token);
  };
  for (const shape of SHAPES) add(`${shape} ${plural(shape)}`);
  for (const text of [...COLORS, ...SIZES, ...CELL_NAMES]) add(text);
  for (let n = 0; n <= MAX_OBJECTS; n++) add(String(n));
  add('what color is the ? what shape is the object ? how many objects are there ?');
  add('is there a an ? where is the ? is the left of above ? yes no');
  add('describe the image . a at the and');
  return [...words].sort();
}
