import { describe, expect, it } from 'vitest';
import { generateQuestions, generateScene, normalizeAnswer } from '../src/index.ts';

describe('normalizeAnswer', () => {
  it('lower-cases and strips punctuation', () => {
    expect(normalizeAnswer('Red!')).toBe('red');
    expect(normalizeAnswer('  Top-Left. ')).toBe('top left');
    expect(normalizeAnswer("don't")).toBe('dont');
  });

  it('drops the articles a, an and the as whole words only', () => {
    expect(normalizeAnswer('The red circle')).toBe('red circle');
    expect(normalizeAnswer('an orange square at the center')).toBe('orange square at center');
    expect(normalizeAnswer('theater another')).toBe('theater another');
  });

  it('turns number words into digits and keeps decimals', () => {
    expect(normalizeAnswer('Three')).toBe('3');
    expect(normalizeAnswer('zero circles')).toBe('0 circles');
    expect(normalizeAnswer('twenty')).toBe('20');
    expect(normalizeAnswer('1.5 cups.')).toBe('1.5 cups');
  });

  it('leaves generated answers unchanged apart from articles', () => {
    for (let index = 0; index < 200; index++) {
      for (const q of generateQuestions(generateScene({ split: 'test', seed: 1, index }))) {
        const expected = q.answer
          .split(' ')
          .filter((w) => w !== 'a' && w !== 'an' && w !== 'the')
          .join(' ');
        expect(normalizeAnswer(q.answer)).toBe(expected);
        expect(normalizeAnswer(normalizeAnswer(q.answer))).toBe(normalizeAnswer(q.answer));
      }
    }
  });
});
