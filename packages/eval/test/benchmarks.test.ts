import { describe, expect, it } from 'vitest';
import {
  mmeYesNo,
  parseGqa,
  parseMme,
  parsePope,
  parseVqa,
  popeYesNo,
  scoreBenchmark,
  vqaSoftAccuracy,
} from '../src/index.ts';

const predictionsOf = (pairs: Record<string, string>) => new Map(Object.entries(pairs));

describe('POPE', () => {
  const text = [
    '{"question_id": 1, "image": "a.png", "text": "Is there a circle in the image?", "label": "yes"}',
    '{"question_id": 2, "image": "a.png", "text": "Is there a star in the image?", "label": "no"}',
    '',
    '{"question_id": 3, "image": "b.png", "text": "Is there a square in the image?", "label": "yes"}',
    '{"question_id": 4, "image": "b.png", "text": "Is there a heart in the image?", "label": "no"}',
    '{"question_id": 5, "image": "c.png", "text": "Is there a cross?", "label": "yes"}',
    '{"question_id": 6, "image": "c.png", "text": "Is there a moon?" "label": "no"}',
    '{"question_id": 7, "image": "c.png", "text": "Is there a moon?", "label": "maybe"}',
  ].join('\n');

  it('reads the layout and names malformed lines by file and line', () => {
    const parsed = parsePope(text, 'coco_pope_adversarial.json');
    expect(parsed.items.map((i) => i.id)).toEqual([1, 2, 3, 4, 5].map((n) => `adversarial/${n}`));
    expect(parsed.items[2]!.source).toEqual({ file: 'coco_pope_adversarial.json', line: 4 });
    expect(parsed.items.every((i) => i.category === 'adversarial')).toBe(true);
    expect(parsed.issues.map((i) => [i.file, i.line, i.kind])).toEqual([
      ['coco_pope_adversarial.json', 7, 'malformed'],
      ['coco_pope_adversarial.json', 8, 'malformed'],
    ]);
    expect(parsed.issues[1]!.message).toMatch(/"label" must be "yes" or "no"/);
  });

  it('scores accuracy, precision, recall and F1 with yes as the positive class', () => {
    const { items } = parsePope(text, 'coco_pope_random.json');
    // labels: yes no yes no yes; predictions: yes yes no no yes -> TP 2, FP 1, FN 1, TN 1.
    const score = scoreBenchmark(
      'pope',
      items,
      predictionsOf({
        'random/1': 'Yes, there is.',
        'random/2': 'yes',
        'random/3': 'There is not.',
        'random/4': 'No',
        'random/5': 'yes it is',
      }),
    );
    expect(score.pope!.accuracy).toBeCloseTo(3 / 5, 12);
    expect(score.pope!.precision).toBeCloseTo(2 / 3, 12);
    expect(score.pope!.recall).toBeCloseTo(2 / 3, 12);
    expect(score.pope!.f1).toBeCloseTo(2 / 3, 12);
    expect(score.pope!.yesRatio).toBeCloseTo(3 / 5, 12);
    expect(score.overall).toBeCloseTo(0.6, 12);
    expect(popeYesNo('I do not see one')).toBe('no');
    expect(popeYesNo('Nothing like that')).toBe('yes');
  });
});

describe('VQAv2 / TextVQA', () => {
  const ten = (counts: Record<string, number>) =>
    Object.entries(counts).flatMap(([answer, n]) => new Array<{ answer: string }>(n).fill({ answer }));
  const questions = JSON.stringify(
    {
      questions: [
        { question_id: 10, image_id: 7, question: 'What color is the circle?' },
        { question_id: 11, image_id: 7, question: 'How many shapes?' },
        { question_id: 12, image_id: 8, question: 'What is left of the star?' },
        { question_id: 13, question: 'no image id' },
      ],
    },
    null,
    2,
  );
  const annotations = JSON.stringify(
    {
      annotations: [
        { question_id: 10, answer_type: 'other', answers: ten({ red: 2, crimson: 8 }) },
        { question_id: 11, answer_type: 'number', answers: ten({ three: 4, '4': 6 }) },
        { question_id: 12, answer_type: 'other', answers: ten({ 'the square': 10 }) },
        { question_id: 13, answer_type: 'other', answers: ten({ x: 10 }) },
      ],
    },
    null,
    2,
  );

  it('pairs questions with annotations, images by zero-padded id, and names a bad entry by line', () => {
    const parsed = parseVqa(questions, 'q.json', { text: annotations, file: 'a.json' });
    expect(parsed.items.map((i) => [i.id, i.image, i.category])).toEqual([
      ['10', '000000000007', 'other'],
      ['11', '000000000007', 'number'],
      ['12', '000000000008', 'other'],
    ]);
    expect(parsed.items[0]!.answers).toHaveLength(10);
    expect(parsed.issues).toHaveLength(1);
    // The fourth question object's "question_id" line in the pretty-printed file.
    const line = questions.split('\n').findIndex((l) => l.includes('"question_id": 13')) + 1;
    expect(parsed.issues[0]).toMatchObject({ file: 'q.json', line, kind: 'malformed' });
    expect(parsed.issues[0]!.message).toMatch(/image_id/);
  });

  it('scores soft accuracy min(#agreeing / 3, 1) after normalisation', () => {
    const { items } = parseVqa(questions, 'q.json', { text: annotations, file: 'a.json' });
    // "Red" matches 2 of 10 -> 2/3; "3" normalises like "three" -> 4 -> 1; "a square" like "the square" -> 1.
    const score = scoreBenchmark('vqa', items, predictionsOf({ '10': 'Red', '11': '3', '12': 'a square' }));
    expect(score.itemScores).toEqual({ '10': 2 / 3, '11': 1, '12': 1 });
    expect(score.overall).toBeCloseTo((2 / 3 + 2) / 3, 12);
    expect(score.perCategory.other!.score).toBeCloseTo((2 / 3 + 1) / 2, 12);
    expect(score.perCategory.number).toEqual({ samples: 1, score: 1 });
    expect(vqaSoftAccuracy('blue', ['red', 'red', 'red'])).toBe(0);
  });

  it('reads TextVQA (one file, answers as strings, string image ids)', () => {
    const text = JSON.stringify({
      data: [{ question_id: 5, image_id: 'abc12', question: 'what word?', answers: ['stop', 'stop', 'go'] }],
    });
    const parsed = parseVqa(text, 'TextVQA_val.json', null);
    expect(parsed.items).toMatchObject([{ id: '5', image: 'abc12', answers: ['stop', 'stop', 'go'] }]);
    expect(scoreBenchmark('vqa', parsed.items, predictionsOf({ '5': 'STOP' })).overall).toBeCloseTo(
      2 / 3,
      12,
    );
  });
});

describe('GQA', () => {
  const text = JSON.stringify(
    {
      q1: { imageId: 'n1', question: 'Is the circle red?', answer: 'yes', types: { structural: 'verify' } },
      q2: {
        imageId: 'n1',
        question: 'What shape is blue?',
        answer: 'square',
        types: { structural: 'query' },
      },
      q3: { imageId: 'n2', question: 'What is left?', answer: 'star', types: { structural: 'query' } },
      q4: { imageId: 'n2', question: 'no answer' },
    },
    null,
    2,
  );

  it('scores exact match per structural type and overall', () => {
    const parsed = parseGqa(text, 'testdev_balanced_questions.json');
    expect(parsed.items.map((i) => i.id)).toEqual(['q1', 'q2', 'q3']);
    const line = text.split('\n').findIndex((l) => l.includes('"no answer"')) + 1;
    expect(parsed.issues).toMatchObject([
      { file: 'testdev_balanced_questions.json', line, kind: 'malformed' },
    ]);
    const score = scoreBenchmark(
      'gqa',
      parsed.items,
      predictionsOf({ q1: 'Yes.', q2: 'a square', q3: 'circle' }),
    );
    expect(score.overall).toBeCloseTo(2 / 3, 12);
    expect(score.perCategory).toEqual({
      query: { samples: 2, score: 0.5 },
      verify: { samples: 1, score: 1 },
    });
  });
});

describe('MME', () => {
  const existence = [
    'img1.png\tIs there a circle in the image?\tYes',
    'img1.png\tIs there a star in the image?\tNo',
    'img2.png\tIs there a square in the image?\tYes',
    'img2.png\tIs there a cross in the image?\tNo',
    'img3.png\tIs there a heart?',
  ].join('\n');
  const color = ['c1.png\tIs the circle red?\tYes', 'c1.png\tIs the circle blue?\tNo'].join('\n');

  it('scores accuracy, acc+ (both questions of an image right) and the total', () => {
    const a = parseMme(existence, 'existence.txt', 'existence');
    const b = parseMme(color, 'color.txt', 'color');
    expect(a.issues).toMatchObject([{ file: 'existence.txt', line: 5, kind: 'malformed' }]);
    const items = [...a.items, ...b.items];
    const score = scoreBenchmark(
      'mme',
      items,
      predictionsOf({
        'existence/1': 'Yes',
        'existence/2': 'No',
        'existence/3': 'Yes',
        'existence/4': 'Yes',
        'color/1': 'Yes, it is red',
        'color/2': 'maybe',
      }),
    );
    // existence: 3/4 right, img1 both right, img2 not -> acc 0.75, acc+ 0.5, score 125.
    expect(score.mme!.perCategory.existence).toEqual({
      questions: 4,
      images: 2,
      accuracy: 0.75,
      accuracyPlus: 0.5,
      score: 125,
    });
    // color: 1/2, acc+ 0 -> 50.
    expect(score.mme!.perCategory.color!.score).toBeCloseTo(50, 12);
    expect(score.mme!.total).toBeCloseTo(175, 12);
    expect(score.overall).toBeCloseTo(175, 12);
    expect(mmeYesNo('maybe yes')).toBe('other');
  });
});

describe('shapes (our layout)', () => {
  it('leaves the free-text family out of the overall figure', () => {
    const item = (id: string, category: string, answer: string) => ({
      id,
      format: 'shapes' as const,
      category,
      question: 'q',
      answers: [answer],
      image: 'x.png',
      source: { file: 'data.jsonl', line: 1 },
    });
    const items = [item('a', 'color', 'red'), item('b', 'count', '3'), item('c', 'describe', 'a red circle')];
    const score = scoreBenchmark('shapes', items, predictionsOf({ a: 'red', b: 'two', c: 'a red circle' }));
    expect(score.overall).toBe(0.5);
    expect(score.perCategory.describe!.score).toBe(1);
  });
});
