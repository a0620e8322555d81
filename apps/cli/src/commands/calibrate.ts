import { type LcSample, layerContribution, serializeLc } from '@shortv/lc';
import type { Command } from '../command.ts';
import { imageLoader, readDataset } from '../data.ts';
import { UsageError } from '../errors.ts';
import { writeFileAtomic } from '../files.ts';
import { integerFlag, rejectPositionals, requiredStringFlag, stringFlag } from '../flags.ts';
import { loadEngine, MODEL_OPTIONS, resolveModelDir } from '../model.ts';
import { ProgressBar } from '../progress.ts';
import { abortOnSigint } from '../signals.ts';
import { CLI_VERSION } from '../version.ts';

const USAGE =
  'shortv calibrate [--model DIR] --data DIR [--samples 40] [--seed 0] [--direction mod||orig|orig||mod] ' +
  '[--aggregation first|all] --out lc.json [--json]';

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
    out: { type: 'string' },
  },
  async run(ctx) {
    rejectPositionals(ctx, USAGE);
    const out = requiredStringFlag(ctx, 'out', USAGE);
    const dataDir = requiredStringFlag(ctx, 'data', USAGE);
    const limit = integerFlag(ctx, 'samples', 1, 100_000, 40);
    const seed = integerFlag(ctx, 'seed', 0, 2 ** 32 - 1, 0);
    const direction = stringFlag(ctx, 'direction') ?? 'mod||orig';
    if (direction !== 'mod||orig' && direction !== 'orig||mod') {
      throw new UsageError(`--direction must be mod||orig (the reference) or orig||mod, got "${direction}"`);
    }
    const aggregation = stringFlag(ctx, 'aggregation') ?? 'first';
    if (aggregation !== 'first' && aggregation !== 'all') {
      throw new UsageError(`--aggregation must be first (the reference) or all, got "${aggregation}"`);
    }
    const records = readDataset(dataDir);
    const engine = await loadEngine(ctx, await resolveModelDir(ctx), null);
    const load = imageLoader();
    const samples: LcSample[] = await Promise.all(
      records.map(async (r) => ({
        id: r.id,
        prompt: r.question,
        answer: r.answer,
        images: [await load(r.imagePath)],
      })),
    );
    const bar = new ProgressBar(ctx.io, 'calibrating', !ctx.json);
    const abort = abortOnSigint();
    try {
      const lc = await layerContribution(engine, samples, {
        limit: Math.min(limit, samples.length),
        seed,
        direction,
        aggregation,
        dataset: dataDir,
        createdWith: `shortv ${CLI_VERSION}`,
        signal: abort.signal,
        onProgress: (p) =>
          bar.update(p.sample + (p.layer === null ? 0 : (p.layer + 1) / p.layers), p.samples),
      });
      bar.done(`${lc.samples} samples in ${lc.seconds.toFixed(1)} s`);
      // Written only once the whole measurement exists: an interrupted run leaves no lc.json behind.
      await writeFileAtomic(out, serializeLc(lc));
      if (ctx.json) {
        ctx.io.stdout(
          `${JSON.stringify({ out, samples: lc.samples, seconds: lc.seconds, visual: lc.visual, text: lc.text })}\n`,
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
