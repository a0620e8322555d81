import { readFile } from 'node:fs/promises';
import { type LcScores, parseLc, selectByCount, selectByFlops } from '@shortv/lc';
import { serializePlan } from '@shortv/plan';
import { readModelFiles } from '@shortv/runtime-core';
import { ShortvError } from '@shortv/tensor';
import type { Command } from '../command.ts';
import { UsageError } from '../errors.ts';
import { checkOutputFile, writeFileAtomic } from '../files.ts';
import { integerFlag, numberFlag, rejectPositionals, requiredStringFlag, stringFlag } from '../flags.ts';
import { MODEL_OPTION_HELP, modelFolder } from '../model.ts';

const USAGE = 'shortv plan --lc lc.json (--layers N | --flops RATIO) --out plan.json [--model DIR] [--json]';

async function readLc(path: string): Promise<LcScores> {
  const text = await readFile(path, 'utf8').catch(() => {
    throw new ShortvError(
      'E_INPUT_NOT_FOUND',
      `LC file ${path} does not exist: run \`shortv calibrate\` first`,
    );
  });
  return parseLc(text);
}

export const planCommand: Command = {
  path: ['plan'],
  summary: 'Turn LC scores into a freeze plan (N lowest-LC layers, or a FLOPs target)',
  usage: USAGE,
  options: {
    lc: { type: 'string' },
    layers: { type: 'string' },
    flops: { type: 'string' },
    out: { type: 'string' },
    model: { type: 'string' },
  },
  optionHelp: {
    lc: { value: 'FILE', description: 'LC scores from `shortv calibrate`' },
    layers: {
      value: 'N',
      description: 'freeze the visual tokens of the N lowest-LC layers',
      default: '60% of the layers',
    },
    flops: {
      value: 'RATIO',
      description: 'freeze the fewest lowest-LC layers that bring prefill FLOPs to RATIO of dense',
    },
    out: { value: 'FILE', description: 'where to write the freeze plan (JSON)' },
    model: {
      ...MODEL_OPTION_HELP.model!,
      description: 'check the plan against this model folder (layers and fingerprint)',
      default: 'no check',
    },
  },
  async run(ctx) {
    rejectPositionals(ctx, USAGE);
    const out = requiredStringFlag(ctx, 'out', USAGE);
    await checkOutputFile(out);
    const lc = await readLc(requiredStringFlag(ctx, 'lc', USAGE));
    const hasLayers = stringFlag(ctx, 'layers') !== undefined;
    const hasFlops = stringFlag(ctx, 'flops') !== undefined;
    if (hasLayers === hasFlops)
      throw new UsageError(`give exactly one of --layers N or --flops RATIO.\nUsage: ${USAGE}`);
    const modelDir = stringFlag(ctx, 'model');
    const model = modelDir
      ? await readModelFiles(modelFolder(modelDir)).then((f) => ({
          numLayers: f.config.text.numLayers,
          fingerprint: f.fingerprint,
        }))
      : undefined;
    const L = lc.model.numLayers;
    const plan = hasLayers
      ? selectByCount(lc, integerFlag(ctx, 'layers', 0, Number.MAX_SAFE_INTEGER), { model })
      : selectByFlops(
          lc,
          numberFlag(ctx, 'flops', { min: 0, max: 1, exclusiveMin: true })!,
          lc.dims,
          lc.tokens,
          {
            model,
          },
        );
    if (hasLayers && plan.layers.length > L) throw new UsageError(`--layers must be at most ${L}`);
    await writeFileAtomic(out, serializePlan(plan));
    const frozen = plan.layers.map((l) => l.index);
    const ratio = plan.estimate?.flopsRatio ?? 1;
    if (ctx.json) ctx.io.stdout(`${JSON.stringify({ out, frozen, flopsRatio: ratio })}\n`);
    else {
      ctx.io.stdout(
        `wrote ${out}: ${frozen.length}/${L} layers frozen (${frozen.join(', ')}), prefill FLOPs ${(ratio * 100).toFixed(1)}% of dense\n`,
      );
    }
    return 0;
  },
};
