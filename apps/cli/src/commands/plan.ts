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
import { PEER_PLAN_OPTION_HELP, PEER_PLAN_OPTIONS, withPeers } from './plan-peers.ts';

const USAGE =
  'shortv plan [--lc lc.json (--layers N | --flops RATIO)] [--fastv K:R] [--vtw --data PATH [--eta 0.01]] --out plan.json [--model DIR] [--json]';

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
    ...PEER_PLAN_OPTIONS,
  },
  optionHelp: {
    ...PEER_PLAN_OPTION_HELP,
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
    const peers = ctx.values.vtw === true || stringFlag(ctx, 'fastv') !== undefined;
    const lcPath = peers ? stringFlag(ctx, 'lc') : requiredStringFlag(ctx, 'lc', USAGE);
    const lc = lcPath === undefined ? undefined : await readLc(lcPath);
    const hasLayers = stringFlag(ctx, 'layers') !== undefined;
    const hasFlops = stringFlag(ctx, 'flops') !== undefined;
    if ((lc !== undefined || !peers) && hasLayers === hasFlops)
      throw new UsageError(`give exactly one of --layers N or --flops RATIO.\nUsage: ${USAGE}`);
    const modelDir = stringFlag(ctx, 'model');
    const model = modelDir
      ? await readModelFiles(modelFolder(modelDir)).then((f) => ({
          numLayers: f.config.text.numLayers,
          fingerprint: f.fingerprint,
        }))
      : undefined;
    const lcPlan = !lc
      ? undefined
      : hasLayers
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
    if (lc && hasLayers && lcPlan!.layers.length > lc.model.numLayers) {
      throw new UsageError(`--layers must be at most ${lc.model.numLayers}`);
    }
    const plan = peers ? await withPeers(ctx, lcPlan) : lcPlan!;
    const L = plan.model.numLayers;
    await writeFileAtomic(out, serializePlan(plan));
    const frozen = plan.layers.map((l) => l.index);
    const ratio = plan.estimate?.flopsRatio ?? 1;
    const { prune, withdraw } = plan;
    if (ctx.json) ctx.io.stdout(`${JSON.stringify({ out, frozen, prune, withdraw, flopsRatio: ratio })}\n`);
    else {
      const peerText = [
        prune ? `, FastV after layer ${prune.afterLayer} keeping ${(prune.keep * 100).toFixed(0)}%` : '',
        withdraw ? `, VTW from layer ${withdraw.fromLayer}` : '',
      ].join('');
      ctx.io.stdout(
        `wrote ${out}: ${frozen.length}/${L} layers frozen (${frozen.join(', ')})${peerText}, prefill FLOPs ${(ratio * 100).toFixed(1)}% of dense\n`,
      );
    }
    return 0;
  },
};
