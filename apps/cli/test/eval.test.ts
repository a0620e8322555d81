import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelShapesDir } from '@shortv/model-shapes/node';
import { nodeModelFolder } from '@shortv/models/node';
import { readModelFiles } from '@shortv/runtime-core';
import { normalizeAnswer } from '@shortv/shapes';
import { writeShapesDataset } from '@shortv/shapes/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, tempDir } from './helpers.ts';

let dir: string;
let shapes: string;
let records: { image: string; question: string; answer: string; family: string }[];
let fastvPlan: string;

const FAST = ['--timing-samples', '1', '--no-cache'];

beforeAll(async () => {
  dir = await tempDir('shortv-cli-eval-');
  shapes = join(dir, 'shapes');
  await writeShapesDataset({ outDir: shapes, count: 2, seed: 5, split: 'test' });
  records = readFileSync(join(shapes, 'data.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const files = await readModelFiles(nodeModelFolder(modelShapesDir()));
  fastvPlan = join(dir, 'fastv.json');
  writeFileSync(
    fastvPlan,
    JSON.stringify({
      format: 'shortv.freeze-plan',
      version: 1,
      model: {
        architecture: 'llava',
        numLayers: files.config.text.numLayers,
        fingerprint: files.fingerprint,
      },
      layers: [{ index: 11, visual: 'freeze' }],
      prune: { afterLayer: 1, keep: 0.5 },
      withdraw: null,
      lc: null,
      calibration: null,
      estimate: null,
    }),
  );
});

/** A folder holding the shapes images under `names` (a layout's own file names). */
function imagesAs(folder: string, names: readonly string[]): void {
  mkdirSync(join(folder, 'images'), { recursive: true });
  const sources = [...new Set(records.map((r) => r.image))];
  names.forEach((name, i) => {
    copyFileSync(join(shapes, sources[i % sources.length]!), join(folder, 'images', name));
  });
}

function readReport(out: string) {
  return JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
}

describe('shortv eval', () => {
  it('compares dense and a FastV + ShortV plan on the shapes layout, with every report file', async () => {
    const out = join(dir, 'out-shapes');
    const r = await cli([
      'eval',
      '--data',
      shapes,
      '--dense',
      '--plan',
      fastvPlan,
      '--limit',
      '6',
      '--out',
      out,
      '--json',
      ...FAST,
    ]);
    expect(r.code, r.err).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary.format).toBe('shapes');
    expect(summary.runs.map((x: { label: string }) => x.label)).toEqual([
      'dense',
      'fastv.json (ShortV 1 + FastV K=2 R=50%)',
    ]);
    const report = readReport(out);
    expect(report.samples).toBe(6);
    const [dense, planned] = report.runs;
    expect(dense.flopsRatio).toBe(1);
    expect(planned.flopsRatio).toBeLessThan(0.7);
    for (const run of report.runs) {
      expect(Object.keys(run.predictions)).toHaveLength(6);
      expect(run.prefill.medianMs).toBeGreaterThan(0);
      expect(run.decodeTokensPerSecond).toBeGreaterThan(0);
      expect(run.peakRssMb).toBeGreaterThan(10);
      expect(
        Object.values(run.score.perCategory).reduce(
          (n: number, c) => n + (c as { samples: number }).samples,
          0,
        ),
      ).toBe(6);
    }
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/\| dense \|/);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toMatch(/<svg /);
  }, 120_000);

  it('POPE: names a malformed line and a missing image by file and line; skip lists them and scores the rest', async () => {
    const folder = join(dir, 'pope');
    imagesAs(folder, ['COCO_val2014_000000000001.jpg']);
    const lines = [
      JSON.stringify({
        question_id: 1,
        image: 'COCO_val2014_000000000001.jpg',
        text: 'is there a circle?',
        label: 'yes',
      }),
      '{"question_id": 2, "image": ',
      JSON.stringify({
        question_id: 3,
        image: 'COCO_val2014_000000000009.jpg',
        text: 'is there a star?',
        label: 'no',
      }),
      JSON.stringify({
        question_id: 4,
        image: 'COCO_val2014_000000000001.jpg',
        text: 'is there a heart?',
        label: 'no',
      }),
    ];
    const file = join(folder, 'coco_pope_random.json');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const out = join(folder, 'out');
    const failed = await cli(['eval', '--data', folder, '--dense', '--out', out, ...FAST]);
    expect(failed.code).toBe(1);
    expect(failed.err).toContain(`${file}:2: not valid JSON`);
    expect(failed.err).toContain(`${file}:3: image "COCO_val2014_000000000009.jpg" not found`);
    expect(existsSync(join(out, 'report.json'))).toBe(false);

    const skipped = await cli([
      'eval',
      '--data',
      folder,
      '--dense',
      '--on-error',
      'skip',
      '--out',
      out,
      ...FAST,
    ]);
    expect(skipped.code, skipped.err).toBe(0);
    const report = readReport(out);
    expect(report.format).toBe('pope');
    expect(report.samples).toBe(2);
    expect(report.skipped.map((s: { line: number; kind: string }) => [s.line, s.kind])).toEqual([
      [2, 'malformed'],
      [3, 'missing-image'],
    ]);
    const run = report.runs[0];
    expect(run.score.perCategory).toHaveProperty('random');
    expect(run.score.pope.f1).toBeGreaterThanOrEqual(0);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('Skipped (2, not scored)');
  }, 120_000);

  it('VQAv2 (questions + annotations, images by COCO id), GQA and MME layouts are recognised and scored', async () => {
    const vqa = join(dir, 'vqa');
    imagesAs(vqa, ['COCO_val2014_000000000007.jpg', 'COCO_val2014_000000000008.jpg']);
    const qa = records.filter((r) => r.family !== 'describe').slice(0, 2);
    writeFileSync(
      join(vqa, 'v2_OpenEnded_mscoco_val2014_questions.json'),
      JSON.stringify({
        questions: qa.map((r, i) => ({ question_id: 70 + i, image_id: 7 + i, question: r.question })),
      }),
    );
    writeFileSync(
      join(vqa, 'v2_mscoco_val2014_annotations.json'),
      JSON.stringify({
        annotations: qa.map((r, i) => ({
          question_id: 70 + i,
          answer_type: 'other',
          answers: Array.from({ length: 10 }, () => ({ answer: r.answer })),
        })),
      }),
    );
    const gqa = join(dir, 'gqa');
    imagesAs(gqa, ['n100.png']);
    writeFileSync(
      join(gqa, 'testdev_balanced_questions.json'),
      JSON.stringify({
        g1: {
          imageId: 'n100',
          question: qa[0]!.question,
          answer: qa[0]!.answer,
          types: { structural: 'query' },
        },
      }),
    );
    const mme = join(dir, 'mme');
    imagesAs(mme, ['a.png']);
    writeFileSync(
      join(mme, 'existence.txt'),
      'a.png\tis there a circle?\tYes\na.png\tis there a cross?\tNo\n',
    );
    for (const [folder, format, samples] of [
      [vqa, 'vqa', 2],
      [gqa, 'gqa', 1],
      [mme, 'mme', 2],
    ] as const) {
      const out = join(folder, 'out');
      const r = await cli(['eval', '--data', folder, '--dense', '--out', out, ...FAST]);
      expect(r.code, `${format}: ${r.err}`).toBe(0);
      const report = readReport(out);
      expect(report.format).toBe(format);
      expect(report.samples).toBe(samples);
      expect(report.skipped).toEqual([]);
      const run = report.runs[0];
      if (format === 'mme') {
        expect(run.score.mme.perCategory.existence.images).toBe(1);
        expect(run.score.overall).toBe(run.score.mme.total);
      } else {
        // All ten annotators agree, so soft accuracy is exact match: the share of right answers.
        const answers =
          format === 'vqa' ? { '70': qa[0]!.answer, '71': qa[1]!.answer } : { g1: qa[0]!.answer };
        const right = Object.entries(answers).filter(
          ([id, answer]) => normalizeAnswer(run.predictions[id]) === normalizeAnswer(answer),
        ).length;
        expect(run.score.overall).toBeCloseTo(right / samples, 12);
      }
    }
  }, 180_000);

  it('refuses a run without --dense or --plan, an unknown --format and an unreadable layout', async () => {
    const none = await cli(['eval', '--data', shapes]);
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/--dense and\/or at least one --plan/);
    const bad = await cli(['eval', '--data', shapes, '--dense', '--format', 'coco']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/--format must be one of/);
    const empty = join(dir, 'empty');
    mkdirSync(empty, { recursive: true });
    writeFileSync(join(empty, 'notes.md'), 'hello');
    const unknown = await cli(['eval', '--data', empty, '--dense', '--no-cache']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/cannot tell the layout/);
  });

  it('leaves no report behind when interrupted', async () => {
    const out = join(dir, 'out-interrupted');
    const run = cli(['eval', '--data', shapes, '--dense', '--out', out, ...FAST]);
    const timer = setInterval(() => process.emit('SIGINT'), 200);
    const r = await run.finally(() => clearInterval(timer));
    expect(r.code).toBe(130);
    expect(existsSync(join(out, 'report.json'))).toBe(false);
  }, 60_000);
});
