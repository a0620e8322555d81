import type { TinyLlavaOptions } from '@shortv/models/testing';
import { type RuntimePlatform, VlmEngine } from '@shortv/runtime-core';
// The engine suite's tiny random LLaVA (word tokenizer, chat template) and its two ORT platforms.
import { testPlatforms } from '../../runtime-core/test/platforms.ts';
import { testImage, tinyModelFolder } from '../../runtime-core/test/tiny-model.ts';
import type { LcSample } from '../src/index.ts';

export { testImage, testPlatforms, tinyModelFolder };

export async function tinyEngine(platform: RuntimePlatform, options: TinyLlavaOptions) {
  const { folder, config } = tinyModelFolder(options);
  return { engine: await VlmEngine.load(folder, { platform }), folder, config };
}

/** Calibration samples over the tiny tokenizer's words, each with a different image. */
export function tinySamples(count = 3): LcSample[] {
  const questions = [
    { prompt: 'what color is the circle?', answer: 'a large red circle' },
    { prompt: 'what is the circle?', answer: 'red' },
    { prompt: 'is the circle blue?', answer: 'blue circle' },
    { prompt: 'what color is a large circle?', answer: 'the large blue circle' },
  ];
  return Array.from({ length: count }, (_, i) => ({
    id: `s${i}`,
    ...questions[i % questions.length]!,
    images: [testImage(16 + 4 * (i % 3), 16, i + 1)],
  }));
}

/** Largest |a - b| / max(|b|, floor) over paired values. */
export function maxRelativeDiff(
  actual: readonly number[],
  expected: readonly number[],
  floor = 1e-12,
): number {
  let worst = 0;
  expected.forEach((e, i) => {
    worst = Math.max(worst, Math.abs(actual[i]! - e) / Math.max(Math.abs(e), floor));
  });
  return worst;
}
