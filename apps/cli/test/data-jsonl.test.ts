import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeShapesDataset } from '@shortv/shapes/node';
import { isShortvError } from '@shortv/tensor';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseQaJsonl } from '../src/dataset-jsonl.ts';
import { cli, tempDir } from './helpers.ts';

let dir: string;
let image: string;

beforeAll(async () => {
  dir = await tempDir('shortv-cli-jsonl-');
  await writeShapesDataset({ outDir: join(dir, 'shapes'), count: 2, seed: 5, split: 'calibration' });
  image = join(dir, 'shapes', 'images', (await readdir(join(dir, 'shapes', 'images')))[0]!);
});

const VALID = '{"image": "a.png", "question": "what color?", "answer": "red"}';

describe('plain JSONL calibration data', () => {
  it('parses {image, question, answer} lines, images relative to the file', () => {
    const samples = parseQaJsonl(
      `${VALID}\n\n{"id":"b","image":"/x/b.png","question":"q","answer":"a"}\n`,
      'd.jsonl',
      '/data',
    );
    expect(samples).toEqual([
      { id: 'line-1', family: 'custom', question: 'what color?', answer: 'red', imagePath: '/data/a.png' },
      { id: 'b', family: 'custom', question: 'q', answer: 'a', imagePath: '/x/b.png' },
    ]);
  });

  it('names the line and field of a bad record', () => {
    expect(() => parseQaJsonl(`${VALID}\n{"image":"a.png","question":"q"}`, 'd.jsonl', '/')).toThrow(
      /d\.jsonl:2: "answer" must be a non-empty string \(it is missing\)/,
    );
    expect(() => parseQaJsonl('{"image":', 'd.jsonl', '/')).toThrow(/d\.jsonl:1: not valid JSON/);
    expect(() => parseQaJsonl('[1]', 'd.jsonl', '/')).toThrow(/d\.jsonl:1: expected an object/);
  });

  it('gives only typed errors for arbitrary and mutated input', () => {
    const mutated = fc
      .tuple(fc.nat(VALID.length), fc.nat(VALID.length), fc.string({ maxLength: 8 }))
      .map(
        ([at, cut, insert]) =>
          VALID.slice(0, at) + insert + VALID.slice(Math.min(VALID.length, at + (cut % 6))),
      );
    const lineSet = fc.array(fc.oneof(fc.string(), fc.json(), mutated, fc.constant(VALID)), { maxLength: 6 });
    fc.assert(
      fc.property(lineSet, (lines) => {
        try {
          const samples = parseQaJsonl(lines.join('\n'), 'fuzz.jsonl', '/base');
          for (const s of samples) {
            expect(s.question.trim()).not.toBe('');
            expect(s.imagePath.startsWith('/')).toBe(true);
          }
        } catch (error) {
          expect(isShortvError(error) && error.code.startsWith('E_DATA_')).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('calibrates from a plain JSONL file and records its name, not its path', async () => {
    const file = join(dir, 'mine.jsonl');
    const lines = [
      { image, question: 'what color is the square?', answer: 'red' },
      { image, question: 'how many shapes are there?', answer: '3' },
    ];
    await writeFile(file, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    const out = join(dir, 'lc.json');
    const r = await cli(['calibrate', '--data', file, '--samples', '2', '--out', out, '--no-cache']);
    expect(r.code).toBe(0);
    const lc = JSON.parse(await readFile(out, 'utf8'));
    expect(lc.samples).toBe(2);
    expect(lc.calibration.dataset).toBe('mine.jsonl');
    const planPath = join(dir, 'plan.json');
    expect((await cli(['plan', '--lc', out, '--layers', '2', '--out', planPath])).code).toBe(0);
    const plan = await readFile(planPath, 'utf8');
    expect(plan).not.toContain(dir);
  }, 60_000);

  it('records a shapes folder by its split and seed', async () => {
    const out = join(dir, 'lc-shapes.json');
    const r = await cli([
      'calibrate',
      '--data',
      join(dir, 'shapes'),
      '--samples',
      '1',
      '--out',
      out,
      '--no-cache',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(await readFile(out, 'utf8')).calibration.dataset).toBe(
      'shapes calibration split (seed 5)',
    );
  }, 60_000);
});
