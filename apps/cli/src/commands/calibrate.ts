import { FREE_TEXT_FAMILIES } from '@shortv/eval';
import { type LcSample, layerContribution, serializeLc } from '@shortv/lc';
import { isShortvError, ShortvError } from '@shortv/tensor';
import type { Command } from '../command.ts';
import { DATA_FORMATS, datasetName, imageLoader, readDataset } from '../data.ts';
import { UsageError } from '../errors.ts';
import { checkOutputFile, writeFileAtomic } from '../files.ts';
import { integerFlag, rejectPositionals, requiredStringFlag, stringFlag } from '../flags.ts';
import { LcPartialFile } from '../lc-partial.ts';
import { loadEngine, MODEL_OPTION_HELP, MODEL_OPTIONS, resolveModelDir } from '../model.ts';
import { ProgressBar } from '../progress.ts';
import { abortOnSigint } from '../signals.ts';
import { CLI_VERSION } from '../version.ts';

const USAGE =
  'shortv calibrate [--model DIR] --data PATH [--samples 40] [--seed 0] [--direction mod||orig|orig||mod] ' +
  '[--aggregation first|all] [--multi-token] [--dataset-name NAME] [--resume] --out lc.json [--json]';

/**
 * The records calibration measures: free-text answers (descriptions) only with `multiToken`, since a
 * first-token KL says little about a multi-token answer. Data with only free-text records is kept whole.
 */
export function calibrationRecords<R extends { family?: string | undefined }>(
  records: readonly R[],
  multiToken: boolean,
): { records: R[]; skipped: number } {
  if (multiToken) return { records: [...records], skipped: 0 };
  const freeText = new Set(FREE_TEXT_FAMILIES);
  const kept = records.filter((r) => r.family === undefined || !freeText.has(r.family));
  if (kept.length === 0) return { records: [...records], skipped: 0 };
  return { records: kept, skipped: records.length - kept.length };
}

export const calibrateCommand: Command = {
  path: ['calibrate'],
  summary: 'Measure Layer Contribution (visual and text) per decoder layer on calibration data',
  usage: USAGE,
  options: {
    ...MODEL_OPTIONS,
    data: { type: 'string' },
    samples: { type: 'string' },
    seed: { type: 'string' },
    direction: { type: 'string' },
    aggregation: { type: 'string' },
    'multi-token': { type: 'boolean' },
    'dataset-name': { type: 'string' },
    resume: { type: 'boolean' },
    out: { type: 'string' },
  },
  optionHelp: {
    ...MODEL_OPTION_HELP,
    data: { value: 'PATH', description: 'calibration data (formats below)' },
    samples: {
      value: 'N',
      description: 'measure N samples, picked by a seeded shuffle (all when there are fewer)',
      default: '40',
    },
    seed: { value: 'S', description: 'seed of the sample pick', default: '0' },
    direction: {
      value: 'D',
      description: 'KL direction: mod||orig = KL(P_ablated || P), the paper; orig||mod = the reverse',
      default: 'mod||orig',
    },
    aggregation: {
      value: 'A',
      description: 'first = compare at the first answer token (the paper); all = every answer token',
      default: 'first',
    },
    'multi-token': {
      description:
        'also calibrate on free-text (description) answers, LC over all their answer tokens, teacher-forced (implies --aggregation all)',
    },
    'dataset-name': {
      value: 'NAME',
      description: 'the data name recorded in lc.json and plans',
      default: 'the file or folder name of --data',
    },
    resume: {
      description: 'continue an interrupted run from the samples kept in OUT.partial',
    },
    out: { value: 'FILE', description: 'where to write the LC scores (JSON)' },
  },
  notes: [
    `--data takes ${DATA_FORMATS}. One record per line, e.g.`,
    '  {"image": "images/cat.png", "question": "what animal is this?", "answer": "cat"}',
    '"id" and "family" are optional. Each finished sample is appended to OUT.partial; after Ctrl-C,',
    'the same command with --resume measures only the rest, and the result equals an uninterrupted run.',
  ].join('\n'),
  async run(ctx) {
    rejectPositionals(ctx, USAGE);
    const out = requiredStringFlag(ctx, 'out', USAGE);
    const dataPath = requiredStringFlag(ctx, 'data', USAGE);
    const limit = integerFlag(ctx, 'samples', 1, 100_000, 40);
    const seed = integerFlag(ctx, 'seed', 0, 2 ** 32 - 1, 0);
    const direction = stringFlag(ctx, 'direction') ?? 'mod||orig';
    if (direction !== 'mod||orig' && direction !== 'orig||mod') {
      throw new UsageError(`--direction must be mod||orig (the reference) or orig||mod, got "${direction}"`);
    }
    const multiToken = ctx.values['multi-token'] === true;
    const aggregation = stringFlag(ctx, 'aggregation') ?? (multiToken ? 'all' : 'first');
    if (aggregation !== 'first' && aggregation !== 'all') {
      throw new UsageError(`--aggregation must be first (the reference) or all, got "${aggregation}"`);
    }
    if (multiToken && aggregation !== 'all') {
      throw new UsageError(
        '--multi-token scores every answer token, so it needs --aggregation all: drop --aggregation first',
      );
    }
    await checkOutputFile(out);
    const { records, skipped } = calibrationRecords(readDataset(dataPath), multiToken);
    if (skipped > 0 && !ctx.json) {
      ctx.io.stderr(
        `left out ${skipped} free-text (${FREE_TEXT_FAMILIES.join(', ')}) records; --multi-token calibrates on them too\n`,
      );
    }
    const dataset = stringFlag(ctx, 'dataset-name') ?? datasetName(dataPath);
    const engine = await loadEngine(ctx, await resolveModelDir(ctx), null);
    const abort = abortOnSigint();
    try {
      const count = Math.min(limit, records.length);
      const partial = new LcPartialFile(`${out}.partial`, {
        fingerprint: engine.fingerprint,
        dataset,
        samples: count,
        seed,
        direction,
        aggregation,
      });
      const completed = ctx.values.resume === true ? await partial.read() : [];
      if (completed.length === 0) await partial.start();
      else if (!ctx.json) {
        ctx.io.stderr(`resuming: ${completed.length} of ${count} samples were measured before\n`);
      }
      const load = imageLoader();
      const samples: LcSample[] = await Promise.all(
        records.map(async (r) => ({
          id: r.id,
          prompt: r.question,
          answer: r.answer,
          images: [await load(r.imagePath)],
        })),
      );
      let kept = completed.length;
      const bar = new ProgressBar(ctx.io, 'calibrating', !ctx.json);
      const lc = await layerContribution(engine, samples, {
        limit: count,
        seed,
        direction,
        aggregation,
        dataset,
        createdWith: `shortv ${CLI_VERSION}`,
        signal: abort.signal,
        completed,
        onSample: async (result) => {
          await partial.append(result);
          kept += 1;
        },
        onProgress: (p) =>
          bar.update(p.sample + (p.layer === null ? 0 : (p.layer + 1) / p.layers), p.samples),
      }).catch((error: unknown) => {
        if (isShortvError(error) && error.code === 'E_ABORTED') {
          throw new ShortvError(
            'E_ABORTED',
            `calibration stopped; ${kept} of ${count} samples are kept in ${partial.path}: run the same command with --resume to continue`,
          );
        }
        throw error;
      });
      bar.done(`${lc.samples} samples in ${lc.seconds.toFixed(1)} s`);
      await writeFileAtomic(out, serializeLc(lc));
      await partial.remove();
      if (ctx.json) {
        ctx.io.stdout(
          `${JSON.stringify({ out, samples: lc.samples, resumed: completed.length, skipped, metric: lc.metric, seconds: lc.seconds, visual: lc.visual, text: lc.text })}\n`,
        );
      } else {
        ctx.io.stdout(
          `wrote ${out}: LC of ${lc.model.numLayers} layers over ${lc.samples} samples (${lc.metric})\n`,
        );
      }
      return 0;
    } finally {
      abort.dispose();
      await engine.dispose();
    }
  },
};
