import type { GenerationStats } from '@shortv/runtime-core';
import { decodeImageFile } from '@shortv/runtime-node';
import type { Command } from '../command.ts';
import { UsageError } from '../errors.ts';
import { integerFlag, numberFlag, rejectPositionals, requiredStringFlag, stringFlag } from '../flags.ts';
import { loadEngine, MODEL_OPTION_HELP, MODEL_OPTIONS, readPlanFile, resolveModelDir } from '../model.ts';
import { abortOnSigint } from '../signals.ts';

const USAGE =
  'shortv run [--model DIR] --image FILE --prompt TEXT [--plan plan.json] [--max-new-tokens N] ' +
  '[--temperature T] [--top-k K] [--top-p P] [--seed S] [--threads N] [--json]';

function statsLine(stats: GenerationStats): string {
  const frozen = stats.frozenLayers.length ? `${stats.frozenLayers.length} frozen layers` : 'dense';
  return (
    `${stats.promptTokens} prompt tokens (${stats.visualTokens} visual), prefill ${stats.prefillMs.toFixed(1)} ms, ` +
    `${stats.newTokens} new tokens at ${stats.decodeTokensPerSecond.toFixed(1)} tok/s, ` +
    `prefill FLOPs ${(stats.flops.ratio * 100).toFixed(1)}% of dense (${frozen})`
  );
}

export const runCommand: Command = {
  path: ['run'],
  summary: 'Answer a prompt about an image, dense or with a freeze plan',
  usage: USAGE,
  options: {
    ...MODEL_OPTIONS,
    image: { type: 'string' },
    prompt: { type: 'string' },
    plan: { type: 'string' },
    'max-new-tokens': { type: 'string' },
    temperature: { type: 'string' },
    'top-k': { type: 'string' },
    'top-p': { type: 'string' },
    seed: { type: 'string' },
  },
  optionHelp: {
    ...MODEL_OPTION_HELP,
    image: { value: 'FILE', description: 'the image (PNG, JPEG, WebP, ...)' },
    prompt: {
      value: 'TEXT',
      description:
        'the question; without <image> the image goes in front of it. Prompt and answer must fit the model context (max_position_embeddings)',
    },
    plan: {
      value: 'FILE',
      description: 'a freeze plan (from `shortv plan` or `shortv demo`)',
      default: 'dense',
    },
    'max-new-tokens': {
      value: 'N',
      description: 'most answer tokens, capped by what the context leaves after the prompt',
      default: "the model's generation_config.json, else 64",
    },
    temperature: { value: 'T', description: 'sampling temperature; 0 = greedy', default: '0' },
    'top-k': { value: 'K', description: 'sample among the K likeliest tokens; 0 = all', default: '0' },
    'top-p': { value: 'P', description: 'nucleus sampling mass in (0, 1]', default: '1' },
    seed: { value: 'S', description: 'sampling seed', default: '0' },
  },
  async run(ctx) {
    rejectPositionals(ctx, USAGE);
    const imagePath = requiredStringFlag(ctx, 'image', USAGE);
    const prompt = stringFlag(ctx, 'prompt');
    if (prompt === undefined) throw new UsageError(`--prompt is required.\nUsage: ${USAGE}`);
    const sampling = {
      temperature: numberFlag(ctx, 'temperature', { min: 0, max: 100 }, 0),
      topK: integerFlag(ctx, 'top-k', 0, 1_000_000, 0),
      topP: numberFlag(ctx, 'top-p', { min: 0, max: 1, exclusiveMin: true }, 1),
      seed: integerFlag(ctx, 'seed', 0, 2 ** 32 - 1, 0),
    };
    const maxNewTokens = stringFlag(ctx, 'max-new-tokens')
      ? integerFlag(ctx, 'max-new-tokens', 1, 4096)
      : undefined;
    const dir = await resolveModelDir(ctx);
    const planPath = stringFlag(ctx, 'plan');
    const plan = planPath ? await readPlanFile(planPath) : null;
    const image = await decodeImageFile(imagePath);
    const engine = await loadEngine(ctx, dir, plan);
    const abort = abortOnSigint();
    try {
      const request = { prompt, images: [image], maxNewTokens, sampling, signal: abort.signal };
      if (ctx.json) {
        const result = await engine.run(request);
        ctx.io.stdout(`${JSON.stringify({ answer: result.text, stats: result.stats })}\n`);
        return 0;
      }
      const iterator = engine.generate(request);
      let next = await iterator.next();
      while (!next.done) {
        ctx.io.stdout(next.value.text);
        next = await iterator.next();
      }
      ctx.io.stdout('\n');
      ctx.io.stderr(`${statsLine(next.value.stats)}\n`);
      return 0;
    } finally {
      abort.dispose();
      await engine.dispose();
    }
  },
};
