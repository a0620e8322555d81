import type { ModelFolder } from '@shortv/models';
import { testImage, tinyModelFolder } from '@shortv/runtime-core/testing';
import type { EvalSample } from '../../src/index.ts';

/** The engine suite's random-weight tiny LLaVA (3 decoder layers, 16 px images), GQA 4/2. */
export function tinyGqaFolder(): ModelFolder {
  return tinyModelFolder({ numKvHeads: 2 }).folder;
}

const FAMILIES = ['color_of_shape', 'count', 'exists', 'describe'];
const QUESTIONS = [
  'what color is the circle?',
  'what is the large circle?',
  'is the circle red?',
  'what is a circle?',
];

/** Eval samples over a few families with placeholder answers (tests replace them as they need). */
export function tinySamples(count: number): EvalSample[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `s${i}`,
    family: FAMILIES[i % FAMILIES.length]!,
    question: QUESTIONS[i % QUESTIONS.length]!,
    answer: 'red',
    loadImage: async () => testImage(20, 16, i + 1),
  }));
}
