import { DEFAULT_IMAGE_SIZE, MAX_COUNT, MAX_SEED, SPLITS, type Split } from '@shortv/shapes';
import { writeShapesDataset } from '@shortv/shapes/node';
import { isShortvError } from '@shortv/tensor';
import type { Command, CommandContext } from '../command.ts';
import { UsageError } from '../errors.ts';
import { integerFlag, rejectPositionals, stringFlag } from '../flags.ts';

const USAGE =
  'shortv dataset shapes --out DIR --count N [--seed S] [--split train|calibration|test] [--size 72] [--force] [--json]';

/** Redraws one status line on an interactive stderr, at most every 100 ms. */
function progressPrinter(ctx: CommandContext): ((done: number, total: number) => void) | undefined {
  if (!ctx.io.interactive || ctx.json) return undefined;
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (done !== total && now - last < 100) return;
    last = now;
    ctx.io.stderr(`\rshapes: ${done}/${total} images${done === total ? '\n' : ''}`);
  };
}

export const datasetShapesCommand: Command = {
  path: ['dataset', 'shapes'],
  summary: 'Generate a synthetic shapes visual-QA dataset (images, scenes, questions)',
  usage: USAGE,
  options: {
    out: { type: 'string' },
    count: { type: 'string' },
    seed: { type: 'string' },
    split: { type: 'string' },
    size: { type: 'string' },
    force: { type: 'boolean' },
  },
  optionHelp: {
    out: { value: 'DIR', description: 'folder to write (manifest.json, scenes.jsonl, data.jsonl, images/)' },
    count: { value: 'N', description: 'number of images (each has several questions)' },
    seed: { value: 'S', description: 'generator seed: the same seed gives the same bytes', default: '0' },
    split: { value: 'NAME', description: 'train, calibration or test (disjoint scenes)', default: 'train' },
    size: { value: 'PX', description: 'image width and height in pixels', default: '72' },
    force: { description: 'replace an existing dataset in --out' },
  },
  async run(ctx) {
    rejectPositionals(ctx, USAGE);
    const outDir = stringFlag(ctx, 'out');
    if (outDir === undefined || outDir.trim() === '')
      throw new UsageError(`--out DIR is required.\nUsage: ${USAGE}`);
    const count = integerFlag(ctx, 'count', 1, MAX_COUNT, undefined, USAGE);
    const seed = integerFlag(ctx, 'seed', 0, MAX_SEED, 0);
    const size = integerFlag(ctx, 'size', 1, Number.MAX_SAFE_INTEGER, DEFAULT_IMAGE_SIZE);
    const split = stringFlag(ctx, 'split') ?? 'train';
    if (!(SPLITS as readonly string[]).includes(split)) {
      throw new UsageError(`unknown --split "${split}": use one of ${SPLITS.join(', ')}.`);
    }
    let result: Awaited<ReturnType<typeof writeShapesDataset>>;
    try {
      result = await writeShapesDataset({
        outDir,
        count,
        seed,
        split: split as Split,
        size,
        force: ctx.values.force === true,
        onProgress: progressPrinter(ctx),
      });
    } catch (error) {
      // Bad sizes and unusable output folders are the user's to fix: report them as usage errors.
      if (isShortvError(error) && (error.code.startsWith('E_DATA_OUT') || error.code.startsWith('E_INPUT'))) {
        throw new UsageError(error.message);
      }
      throw error;
    }
    const summary = {
      outDir: result.outDir,
      split: result.split,
      seed: result.seed,
      images: result.images,
      questions: result.questions,
      families: result.families,
    };
    if (ctx.json) {
      ctx.io.stdout(`${JSON.stringify(summary)}\n`);
    } else {
      ctx.io.stdout(
        `wrote ${summary.images} images and ${summary.questions} questions (${summary.split}, seed ${summary.seed}, ${result.size}px) to ${summary.outDir}\n`,
      );
    }
    return 0;
  },
};
