import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EvalSample, FREE_TEXT_FAMILIES } from '@shortv/eval';
import type { LcSample } from '@shortv/lc';
import { createRandom } from '@shortv/runtime-core';
import { writeShapesDataset } from '@shortv/shapes/node';
import { type DatasetSample, imageLoader, readDataset } from '../data.ts';

export interface DemoData {
  calibration: LcSample[];
  /** The same calibration images with every second question replaced by the image's description. */
  calibrationMultiToken: LcSample[];
  test: EvalSample[];
  dispose: () => Promise<void>;
}

/**
 * Generates the demo's data: a calibration split and a held-out test split of the shapes dataset
 * (disjoint by construction), in a temporary folder removed afterwards.
 */
export async function demoData(options: {
  calibrationSamples: number;
  testSamples: number;
  seed: number;
}): Promise<DemoData> {
  const dir = await mkdtemp(join(tmpdir(), 'shortv-demo-'));
  try {
    // A calibration sample is one question per image, families taken in turn, so 40 samples span 40 scenes.
    await writeShapesDataset({
      outDir: join(dir, 'calibration'),
      count: options.calibrationSamples,
      seed: options.seed,
      split: 'calibration',
    });
    // Test images hold ~6-7 questions each; generate enough images for the requested questions.
    await writeShapesDataset({
      outDir: join(dir, 'test'),
      count: Math.ceil(options.testSamples / 5),
      seed: options.seed,
      split: 'test',
    });
    const load = imageLoader();
    const calibrationSet = readDataset(join(dir, 'calibration'));
    const calibrationRecords = onePerImage(calibrationSet, options.seed);
    const toLc = async (r: DatasetSample): Promise<LcSample> => ({
      id: r.id,
      prompt: r.question,
      answer: r.answer,
      images: [await load(r.imagePath)],
    });
    const calibration = await Promise.all(calibrationRecords.map(toLc));
    const descriptions = new Map(
      calibrationSet.filter((r) => FREE_TEXT_FAMILIES.includes(r.family)).map((r) => [r.imagePath, r]),
    );
    const calibrationMultiToken = await Promise.all(
      calibrationRecords.map((r, i) => (i % 2 === 1 ? (descriptions.get(r.imagePath) ?? r) : r)).map(toLc),
    );
    const test = readDataset(join(dir, 'test'))
      .slice(0, options.testSamples)
      .map((r) => ({
        id: r.id,
        family: r.family,
        question: r.question,
        answer: r.answer,
        loadImage: () => load(r.imagePath),
      }));
    return {
      calibration,
      calibrationMultiToken,
      test,
      dispose: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** One single-answer question per image, the family chosen by a seeded draw. */
function onePerImage(records: DatasetSample[], seed: number): DatasetSample[] {
  const random = createRandom(seed);
  const byImage = new Map<string, DatasetSample[]>();
  for (const r of records) {
    if (FREE_TEXT_FAMILIES.includes(r.family)) continue;
    const list = byImage.get(r.imagePath) ?? [];
    list.push(r);
    byImage.set(r.imagePath, list);
  }
  return [...byImage.values()].map((list) => list[Math.floor(random() * list.length)]!);
}
