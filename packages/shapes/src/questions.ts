import { Rng } from './random.ts';
import type { Scene, SceneObject } from './scene.ts';
import { COLORS, cellName, type Family, plural, SHAPES, type Shape } from './vocabulary.ts';

export interface QuestionAnswer {
  family: Family;
  question: string;
  answer: string;
}

type Attribute = 'size' | 'color' | 'shape';

function countWhere(objects: readonly SceneObject[], match: Partial<Pick<SceneObject, Attribute>>): number {
  let n = 0;
  for (const o of objects) {
    if (
      (match.size === undefined || o.size === match.size) &&
      (match.color === undefined || o.color === match.color) &&
      (match.shape === undefined || o.shape === match.shape)
    ) {
      n++;
    }
  }
  return n;
}

function article(word: string): 'a' | 'an' {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

/**
 * Noun phrases (without "the") that pick out exactly this object: its shape, colour + shape, or
 * size + colour + shape, each only when no other object matches it.
 */
export function uniqueDescriptions(objects: readonly SceneObject[], o: SceneObject): string[] {
  const out: string[] = [];
  if (countWhere(objects, { shape: o.shape }) === 1) out.push(o.shape);
  if (countWhere(objects, { color: o.color, shape: o.shape }) === 1) out.push(`${o.color} ${o.shape}`);
  if (countWhere(objects, { size: o.size, color: o.color, shape: o.shape }) === 1) {
    out.push(`${o.size} ${o.color} ${o.shape}`);
  }
  return out;
}

function colorOfShape(rng: Rng, objects: readonly SceneObject[]): QuestionAnswer | undefined {
  const options: { object: SceneObject; phrase: string }[] = [];
  for (const o of objects) {
    if (countWhere(objects, { shape: o.shape }) === 1) options.push({ object: o, phrase: o.shape });
    if (countWhere(objects, { shape: o.shape, size: o.size }) === 1) {
      options.push({ object: o, phrase: `${o.size} ${o.shape}` });
    }
  }
  if (options.length === 0) return undefined;
  const { object, phrase } = rng.pick(options);
  return { family: 'color_of_shape', question: `what color is the ${phrase}?`, answer: object.color };
}

function shapeOfColor(rng: Rng, objects: readonly SceneObject[]): QuestionAnswer | undefined {
  const unique = objects.filter((o) => countWhere(objects, { color: o.color }) === 1);
  if (unique.length === 0) return undefined;
  const object = rng.pick(unique);
  return {
    family: 'shape_of_color',
    question: `what shape is the ${object.color} object?`,
    answer: object.shape,
  };
}

/** Share of shape/colour count questions that ask about an attribute absent from the scene. */
const ABSENT_COUNT_RATE = 0.15;

function count(rng: Rng, objects: readonly SceneObject[]): QuestionAnswer {
  const form = rng.int(3);
  if (form === 0) {
    return { family: 'count', question: 'how many objects are there?', answer: String(objects.length) };
  }
  const values: readonly string[] = form === 1 ? SHAPES : COLORS;
  const key: 'shape' | 'color' = form === 1 ? 'shape' : 'color';
  const absent = values.filter((v) => countWhere(objects, { [key]: v }) === 0);
  // Asking about a random object's attribute favours the attributes many objects share, which
  // spreads the answers over 1..6 instead of piling them on "1".
  const value =
    absent.length > 0 && rng.chance(ABSENT_COUNT_RATE) ? rng.pick(absent) : rng.pick(objects)[key];
  const n = countWhere(objects, { [key]: value });
  const question =
    key === 'shape'
      ? `how many ${plural(value as Shape)} are there?`
      : `how many ${value} objects are there?`;
  return { family: 'count', question, answer: String(n) };
}

function exists(rng: Rng, objects: readonly SceneObject[]): QuestionAnswer {
  let color: string;
  let shape: string;
  const answerYes = rng.chance(0.5);
  if (answerYes) {
    ({ color, shape } = rng.pick(objects));
  } else {
    const absent: { color: string; shape: string; near: boolean }[] = [];
    for (const c of COLORS) {
      for (const s of SHAPES) {
        if (countWhere(objects, { color: c, shape: s }) > 0) continue;
        // A near miss shares the colour or the shape with some object: the harder kind of "no".
        const near = objects.some((o) => o.color === c || o.shape === s);
        absent.push({ color: c, shape: s, near });
      }
    }
    const near = absent.filter((a) => a.near);
    ({ color, shape } = near.length > 0 && rng.chance(0.5) ? rng.pick(near) : rng.pick(absent));
  }
  return {
    family: 'exists',
    question: `is there ${article(color)} ${color} ${shape}?`,
    answer: answerYes ? 'yes' : 'no',
  };
}

function position(rng: Rng, objects: readonly SceneObject[]): QuestionAnswer | undefined {
  const options: { object: SceneObject; phrase: string }[] = [];
  for (const o of objects)
    for (const phrase of uniqueDescriptions(objects, o)) options.push({ object: o, phrase });
  if (options.length === 0) return undefined;
  const { object, phrase } = rng.pick(options);
  return {
    family: 'position',
    question: `where is the ${phrase}?`,
    answer: cellName(object.row, object.col),
  };
}

type Relation = 'left of' | 'above';

export function relationHolds(relation: Relation, a: SceneObject, b: SceneObject): boolean {
  return relation === 'left of' ? a.col < b.col : a.row < b.row;
}

function relation(rng: Rng, objects: readonly SceneObject[]): QuestionAnswer | undefined {
  const describable = objects
    .map((object) => ({ object, phrases: uniqueDescriptions(objects, object) }))
    .filter((d) => d.phrases.length > 0);
  if (describable.length < 2) return undefined;
  const yes: [number, number, Relation][] = [];
  const no: [number, number, Relation][] = [];
  for (let i = 0; i < describable.length; i++) {
    for (let j = 0; j < describable.length; j++) {
      if (i === j) continue;
      for (const rel of ['left of', 'above'] as const) {
        const a = describable[i]?.object as SceneObject;
        const b = describable[j]?.object as SceneObject;
        (relationHolds(rel, a, b) ? yes : no).push([i, j, rel]);
      }
    }
  }
  // Two objects in different cells differ in row or column, so both lists are non-empty and the
  // coin alone sets the answer: yes and no are balanced exactly in expectation.
  const wantYes = rng.chance(0.5);
  const [i, j, rel] = rng.pick(wantYes ? yes : no);
  const a = describable[i] as { object: SceneObject; phrases: string[] };
  const b = describable[j] as { object: SceneObject; phrases: string[] };
  return {
    family: 'relation',
    question: `is the ${rng.pick(a.phrases)} ${rel} the ${rng.pick(b.phrases)}?`,
    answer: wantYes ? 'yes' : 'no',
  };
}

/** "a large red circle at the top left and a small blue square at the center", in reading order. */
export function describeScene(objects: readonly SceneObject[]): string {
  return objects
    .map((o) => `a ${o.size} ${o.color} ${o.shape} at the ${cellName(o.row, o.col)}`)
    .join(' and ');
}

/**
 * One question of each family that applies to the scene, in family order. Which object or
 * attribute is asked about is drawn from a stream keyed by the scene id, so it is deterministic.
 */
export function generateQuestions(scene: Scene): QuestionAnswer[] {
  const rng = new Rng(`shortv.shapes.questions|${scene.id}`);
  const objects = scene.objects;
  const out: (QuestionAnswer | undefined)[] = [
    colorOfShape(rng, objects),
    shapeOfColor(rng, objects),
    count(rng, objects),
    exists(rng, objects),
    position(rng, objects),
    relation(rng, objects),
    { family: 'describe', question: 'describe the image.', answer: describeScene(objects) },
  ];
  return out.filter((q): q is QuestionAnswer => q !== undefined);
}
