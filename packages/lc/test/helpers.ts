import type { TinyLlavaOptions } from '@shortv/models/testing';
import { type RuntimePlatform, VlmEngine } from '@shortv/runtime-core';
// The engine suite's tiny random LLaVA (word tokenizer, chat template) and its two ORT platforms.
import { testImage, testPlatforms, tinyModelFolder } from '@shortv/runtime-core/testing';
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

/** KL values below this are float32 round-off of logits (two equal distributions), not a signal. */
export const KL_NOISE = 1e-10;

/**
 * How far two LC vectors are apart: the largest relative difference among values above the noise
 * floor, and the largest absolute difference among the rest (where a relative one means nothing: the
 * exact value is 0, e.g. the last layer's visual LC).
 */
export function lcDiff(actual: readonly number[], expected: readonly number[]) {
  let relative = 0;
  let absolute = 0;
  expected.forEach((e, i) => {
    const a = actual[i]!;
    const scale = Math.max(Math.abs(a), Math.abs(e));
    if (scale > KL_NOISE) relative = Math.max(relative, Math.abs(a - e) / scale);
    else absolute = Math.max(absolute, Math.abs(a - e));
  });
  return { relative, absolute };
}
