import { checkExportFormat, checkExportTarget, EXPORT_FORMATS, exportModel } from '@shortv/export';
import { ShortvError } from '@shortv/tensor';
import type { Command } from '../command.ts';
import { UsageError } from '../errors.ts';
import { rejectPositionals, requiredStringFlag, stringFlag } from '../flags.ts';
import { readPlanFile, resolveModelDir } from '../model.ts';

const USAGE = 'shortv export --format transformers.js --out DIR [--model DIR] [--plan plan.json] [--json]';

/** Export refusals (format, target folder, plan kind) are the user's to fix: exit 1 with the message. */
function asUserError(error: unknown): unknown {
  return error instanceof ShortvError && error.code.startsWith('E_EXPORT')
    ? new UsageError(error.message)
    : error;
}

export const exportCommand: Command = {
  path: ['export'],
  summary: 'Write the model in another runtime’s folder layout (transformers.js), dense or with a plan',
  usage: USAGE,
  options: {
    model: { type: 'string' },
    format: { type: 'string' },
    out: { type: 'string' },
    plan: { type: 'string' },
  },
  optionHelp: {
    model: {
      value: 'DIR',
      description: 'Hugging Face LLaVA folder to export',
      default: 'the bundled shapes model',
    },
    format: { value: 'NAME', description: `output layout: ${EXPORT_FORMATS.join(', ')}` },
    out: { value: 'DIR', description: 'folder to create (must not exist, or be empty); written atomically' },
    plan: {
      value: 'FILE',
      description:
        'freeze plan: the exported decoder runs the ShortV form (frozen layers only, no prune/withdraw)',
    },
  },
  notes:
    'Load the result offline in @huggingface/transformers: env.allowRemoteModels = false; env.localModelPath = <parent of DIR>; LlavaForConditionalGeneration.from_pretrained(<name of DIR>).',
  async run(ctx) {
    rejectPositionals(ctx, USAGE);
    const format = requiredStringFlag(ctx, 'format', USAGE);
    const out = requiredStringFlag(ctx, 'out', USAGE);
    try {
      checkExportFormat(format);
      await checkExportTarget(out);
    } catch (error) {
      throw asUserError(error);
    }
    const modelDir = await resolveModelDir(ctx);
    const planPath = stringFlag(ctx, 'plan');
    const plan = planPath ? await readPlanFile(planPath) : null;
    let result: Awaited<ReturnType<typeof exportModel>>;
    try {
      result = await exportModel({ modelDir, outDir: out, format, plan });
    } catch (error) {
      throw asUserError(error);
    }
    const bytes = result.files.reduce((n, f) => n + f.bytes, 0);
    if (ctx.json) {
      ctx.io.stdout(`${JSON.stringify({ ...result, model: modelDir, bytes })}\n`);
    } else {
      const frozen =
        result.frozenLayers.length > 0 ? ` (frozen layers ${result.frozenLayers.join(', ')})` : '';
      ctx.io.stdout(
        `Exported ${modelDir} as ${result.format}, ${result.form} decoder${frozen}, to ${result.outDir}: ${result.files.length} files, ${(bytes / 1e6).toFixed(1)} MB\n`,
      );
    }
    return 0;
  },
};
