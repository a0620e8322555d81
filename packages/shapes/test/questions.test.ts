import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FAMILIES,
  generateQuestions,
  generateScene,
  type QuestionAnswer,
  type SceneObject,
  SPLITS,
  type Split,
  shapesVocabulary,
  tokenize,
} from '../src/index.ts';

const keyArb = fc.record({
  split: fc.constantFrom<Split>(...SPLITS),
  seed: fc.integer({ min: 0, max: 0xffffffff }),
  index: fc.integer({ min: 0, max: 999_999 }),
});

// The test's own tables, written out rather than imported, so the check is independent.
const CELLS = [
  ['top left', 'top', 'top right'],
  ['left', 'center', 'right'],
  ['bottom left', 'bottom', 'bottom right'],
];
const SIZE_WORDS = ['small', 'large'];
const COLOR_WORDS = ['red', 'green', 'blue', 'yellow', 'purple', 'orange'];

/** Objects matching a noun phrase like "circle", "red circle" or "large red circle". */
function matching(objects: readonly SceneObject[], phrase: string): SceneObject[] {
  const words = phrase.split(' ');
  const shape = words.pop();
  let color: string | undefined;
  let size: string | undefined;
  for (const w of words) {
    if (SIZE_WORDS.includes(w)) size = w;
    else if (COLOR_WORDS.includes(w)) color = w;
    else throw new Error(`unexpected word "${w}" in "${phrase}"`);
  }
  return objects.filter(
    (o) =>
      o.shape === shape &&
      (color === undefined || o.color === color) &&
      (size === undefined || o.size === size),
  );
}

function only(objects: readonly SceneObject[], phrase: string): SceneObject {
  const found = matching(objects, phrase);
  expect(found, `"${phrase}" must pick out exactly one object`).toHaveLength(1);
  return found[0] as SceneObject;
}

/** Recomputes the answer to a generated question from the scene graph alone. */
function expectedAnswer(objects: readonly SceneObject[], qa: QuestionAnswer): string {
  const q = qa.question;
  let m: RegExpMatchArray | null;
  switch (qa.family) {
    case 'color_of_shape':
      m = q.match(/^what color is the ((?:small |large )?\w+)\?$/);
      expect(m).not.toBeNull();
      return only(objects, m?.[1] as string).color;
    case 'shape_of_color': {
      m = q.match(/^what shape is the (\w+) object\?$/);
      const found = objects.filter((o) => o.color === m?.[1]);
      expect(found).toHaveLength(1);
      return (found[0] as SceneObject).shape;
    }
    case 'count':
      if (q === 'how many objects are there?') return String(objects.length);
      m = q.match(/^how many (\w+) objects are there\?$/);
      if (m) return String(objects.filter((o) => o.color === m?.[1]).length);
      m = q.match(/^how many (\w+)s are there\?$/);
      expect(m).not.toBeNull();
      return String(objects.filter((o) => o.shape === m?.[1]).length);
    case 'exists': {
      m = q.match(/^is there (a|an) (\w+) (\w+)\?$/);
      expect(m).not.toBeNull();
      expect(m?.[1]).toBe(m?.[2] === 'orange' ? 'an' : 'a');
      return objects.some((o) => o.color === m?.[2] && o.shape === m?.[3]) ? 'yes' : 'no';
    }
    case 'position': {
      m = q.match(/^where is the (.+)\?$/);
      const o = only(objects, m?.[1] as string);
      return CELLS[o.row]?.[o.col] as string;
    }
    case 'relation': {
      m = q.match(/^is the (.+) (left of|above) the (.+)\?$/);
      expect(m).not.toBeNull();
      const a = only(objects, m?.[1] as string);
      const b = only(objects, m?.[3] as string);
      expect(a).not.toBe(b);
      const holds = m?.[2] === 'left of' ? a.col < b.col : a.row < b.row;
      return holds ? 'yes' : 'no';
    }
    case 'describe': {
      expect(q).toBe('describe the image.');
      const sorted = [...objects].sort((x, y) => x.row - y.row || x.col - y.col);
      return sorted
        .map((o) => `a ${o.size} ${o.color} ${o.shape} at the ${CELLS[o.row]?.[o.col]}`)
        .join(' and ');
    }
  }
}

describe('generateQuestions', () => {
  it('answers every question as the scene graph says', () => {
    fc.assert(
      fc.property(keyArb, (key) => {
        const scene = generateScene(key);
        for (const qa of generateQuestions(scene)) expect(qa.answer).toBe(expectedAnswer(scene.objects, qa));
      }),
      { numRuns: 1000 },
    );
  });

  it('asks each family at most once, in family order, and always count, exists and describe', () => {
    fc.assert(
      fc.property(keyArb, (key) => {
        const families = generateQuestions(generateScene(key)).map((q) => q.family);
        const order = families.map((f) => FAMILIES.indexOf(f));
        expect(order).toEqual([...new Set(order)].sort((a, b) => a - b));
        for (const f of ['count', 'exists', 'describe'] as const) expect(families).toContain(f);
      }),
      { numRuns: 300 },
    );
  });

  it('asks relation exactly when two objects can be described uniquely', () => {
    fc.assert(
      fc.property(keyArb, (key) => {
        const scene = generateScene(key);
        const describable = scene.objects.filter(
          (o) => matching(scene.objects, `${o.size} ${o.color} ${o.shape}`).length === 1,
        );
        const asked = generateQuestions(scene).some((q) => q.family === 'relation');
        expect(asked).toBe(describable.length >= 2);
      }),
      { numRuns: 300 },
    );
  });

  it('uses single-word or cell-name answers outside describe, lower case without punctuation', () => {
    const cellNames = CELLS.flat();
    fc.assert(
      fc.property(keyArb, (key) => {
        for (const qa of generateQuestions(generateScene(key))) {
          expect(qa.answer).toMatch(/^[a-z0-9 ]+$/);
          expect(qa.question).toMatch(/^[a-z ]+[?.]$/);
          if (qa.family === 'position') expect(cellNames).toContain(qa.answer);
          else if (qa.family !== 'describe') expect(qa.answer).toMatch(/^[a-z0-9]+$/);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('uses exactly the manifest vocabulary', () => {
    const used = new Set<string>();
    for (let index = 0; index < 2000; index++) {
      for (const q of generateQuestions(generateScene({ split: 'train', seed: 4, index }))) {
        for (const token of [...tokenize(q.question), ...tokenize(q.answer)]) used.add(token);
      }
    }
    expect([...used].sort()).toEqual(shapesVocabulary());
  });

  it('balances yes and no, keeps zero counts present but rare, and uses every family', () => {
    const tally: Record<string, Record<string, number>> = {};
    const n = 3000;
    for (let index = 0; index < n; index++) {
      for (const q of generateQuestions(generateScene({ split: 'train', seed: 21, index }))) {
        tally[q.family] ??= {};
        const family = tally[q.family] as Record<string, number>;
        family[q.answer] = (family[q.answer] ?? 0) + 1;
      }
    }
    for (const family of ['exists', 'relation']) {
      const { yes = 0, no = 0 } = tally[family] ?? {};
      expect(yes + no).toBeGreaterThan(n / 2);
      expect(Math.abs(yes / (yes + no) - 0.5)).toBeLessThan(0.04);
    }
    const counts = tally.count ?? {};
    const zeros = (counts['0'] ?? 0) / n;
    expect(zeros).toBeGreaterThan(0.03);
    expect(zeros).toBeLessThan(0.2);
    for (const digit of ['1', '2', '3', '4', '5', '6']) expect(counts[digit] ?? 0).toBeGreaterThan(0);
    for (const family of FAMILIES) expect(Object.keys(tally[family] ?? {}).length).toBeGreaterThan(1);
  });

  it('depends only on the scene', () => {
    const scene = generateScene({ split: 'test', seed: 9, index: 77 });
    expect(generateQuestions(scene)).toEqual(generateQuestions(structuredClone(scene)));
  });
});

describe('vocabulary', () => {
  it('is sorted and free of duplicates', () => {
    const v = shapesVocabulary();
    expect(v).toEqual([...new Set(v)].sort());
  });

  it('splits "?" and "." into their own tokens', () => {
    expect(tokenize('what color is the circle?')).toEqual(['what', 'color', 'is', 'the', 'circle', '?']);
    expect(tokenize('describe the image.')).toEqual(['describe', 'the', 'image', '.']);
  });
});
