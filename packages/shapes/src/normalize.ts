const NUMBER_WORDS: Readonly<Record<string, string>> = {
  zero: '0',
  one: '1',
  two: '2',
  three: '3',
  four: '4',
  five: '5',
  six: '6',
  seven: '7',
  eight: '8',
  nine: '9',
  ten: '10',
  eleven: '11',
  twelve: '12',
  thirteen: '13',
  fourteen: '14',
  fifteen: '15',
  sixteen: '16',
  seventeen: '17',
  eighteen: '18',
  nineteen: '19',
  twenty: '20',
};

const ARTICLES = new Set(['a', 'an', 'the']);

/**
 * Canonical form of a free-text answer for exact-match scoring: lower case, punctuation removed
 * (a decimal point between digits is kept, apostrophes vanish so "don't" -> "dont"), articles
 * a/an/the dropped, number words zero..twenty turned into digits, whitespace collapsed.
 */
export function normalizeAnswer(answer: string): string {
  const words =
    answer
      .toLowerCase()
      .replace(/['\u2019]/g, '')
      .match(/\d+(?:\.\d+)+|[\p{L}\p{N}]+/gu) ?? [];
  return words
    .filter((word) => !ARTICLES.has(word))
    .map((word) => NUMBER_WORDS[word] ?? word)
    .join(' ');
}
