import { FREE_TEXT_FAMILIES } from '@shortv/eval';
import { createRandom } from '@shortv/runtime-core';
import { generateSamplePng, type QuestionRecord } from '@shortv/shapes';

/** A shapes scene drawn in the page: its PNG and the questions the generator asks about it. */
export interface DrawnScene {
  id: string;
  png: Uint8Array;
  questions: QuestionRecord[];
}

export function drawScene(seed: number, index = 0): DrawnScene {
  const sample = generateSamplePng({ split: 'test', seed, index });
  return { id: sample.scene.id, png: sample.png, questions: sample.questions };
}

export interface CalibrationSample {
  id: string;
  png: Uint8Array;
  question: string;
  answer: string;
}

/**
 * K calibration questions as `shortv demo` draws them: images of the calibration split (never the test
 * split the page's samples come from), one single-answer question per image chosen by a seeded draw.
 */
export function calibrationSamples(count: number, seed: number): CalibrationSample[] {
  const random = createRandom(seed);
  const out: CalibrationSample[] = [];
  for (let index = 0; index < count; index++) {
    const sample = generateSamplePng({ split: 'calibration', seed, index });
    const single = sample.questions.filter((q) => !FREE_TEXT_FAMILIES.includes(q.family));
    const pick = single[Math.floor(random() * single.length)] ?? sample.questions[0]!;
    out.push({ id: pick.id, png: sample.png, question: pick.question, answer: pick.answer });
  }
  return out;
}

export function pngBlob(bytes: Uint8Array): Blob {
  return new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'image/png' });
}
