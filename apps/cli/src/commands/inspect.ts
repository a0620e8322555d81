import { checkPlanForModel, prefillFlops } from '@shortv/plan';
import { readModelFiles } from '@shortv/runtime-core';
import type { Command } from '../command.ts';
import { integerFlag, rejectPositionals, stringFlag } from '../flags.ts';
import { MODEL_OPTION_HELP, MODEL_OPTIONS, modelFolder, readPlanFile, resolveModelDir } from '../model.ts';

const USAGE = 'shortv inspect [--model DIR] [--plan plan.json] [--text-tokens N] [--json]';

export const inspectCommand: Command = {
  path: ['inspect'],
  summary: 'Show a model’s architecture, sizes and fingerprint (and what a plan freezes)',
  usage: USAGE,
  options: { model: MODEL_OPTIONS.model, plan: { type: 'string' }, 'text-tokens': { type: 'string' } },
  optionHelp: {
    model: MODEL_OPTION_HELP.model!,
    plan: { value: 'FILE', description: 'also show what this freeze plan freezes and its prefill FLOPs' },
    'text-tokens': {
      value: 'N',
      description: 'text tokens assumed by the FLOPs estimate',
      default: "the plan's estimate, else 32",
    },
  },
  async run(ctx) {
    rejectPositionals(ctx, USAGE);
    const dir = await resolveModelDir(ctx);
    const files = await readModelFiles(modelFolder(dir));
    const { config } = files;
    const t = config.text;
    const v = config.vision;
    const parameters = files.tensors.reduce((sum, e) => sum + e.shape.reduce((a, b) => a * b, 1), 0);
    const planPath = stringFlag(ctx, 'plan');
    const plan = planPath ? await readPlanFile(planPath) : null;
    const visualTokens = config.imageSeqLength;
    const textTokens = integerFlag(ctx, 'text-tokens', 1, 1_000_000, plan?.estimate?.textTokens ?? 32);
    let planInfo: {
      frozenLayers: number[];
      flopsRatio: number;
      textTokens: number;
      visualTokens: number;
    } | null = null;
    if (plan) {
      checkPlanForModel(plan, {
        numLayers: t.numLayers,
        fingerprint: files.fingerprint,
        architecture: 'llava',
      });
      const frozenLayers = plan.layers.filter((l) => l.visual === 'freeze').map((l) => l.index);
      const flops = prefillFlops(
        { ...t, numHeads: t.numHeads, numKvHeads: t.numKvHeads, headDim: t.headDim },
        { visualTokens, textTokens },
        plan,
      );
      planInfo = { frozenLayers, flopsRatio: flops.ratio, textTokens, visualTokens };
    }
    const info = {
      model: dir,
      architecture: 'llava',
      fingerprint: files.fingerprint,
      parameters,
      text: {
        modelType: t.modelType,
        layers: t.numLayers,
        hiddenSize: t.hiddenSize,
        intermediateSize: t.intermediateSize,
        heads: t.numHeads,
        kvHeads: t.numKvHeads,
        headDim: t.headDim,
        vocabSize: t.vocabSize,
      },
      vision: {
        modelType: v.modelType,
        layers: v.numLayers,
        hiddenSize: v.hiddenSize,
        heads: v.numHeads,
        imageSize: v.imageSize,
        patchSize: v.patchSize,
        featureLayers: config.visionFeatureLayers,
        selectStrategy: config.visionFeatureSelectStrategy,
      },
      visualTokensPerImage: visualTokens,
      plan: planInfo,
    };
    if (ctx.json) {
      ctx.io.stdout(`${JSON.stringify(info)}\n`);
      return 0;
    }
    const lines = [
      `model        ${dir}`,
      `architecture llava: ${v.modelType} -> projector (${config.projectorHiddenAct}) -> ${t.modelType}`,
      `parameters   ${parameters.toLocaleString('en-US')}`,
      `fingerprint  ${files.fingerprint}`,
      `decoder      ${t.numLayers} layers, d=${t.hiddenSize}, ffn=${t.intermediateSize}, heads ${t.numHeads} (kv ${t.numKvHeads}, head dim ${t.headDim}), vocab ${t.vocabSize}`,
      `vision       ${v.numLayers} layers, d=${v.hiddenSize}, ${v.imageSize}px images in ${v.patchSize}px patches, feature layer(s) ${config.visionFeatureLayers.join(',')} (${config.visionFeatureSelectStrategy})`,
      `visual tokens per image ${visualTokens}`,
    ];
    if (planInfo) {
      lines.push(
        `plan         ${planInfo.frozenLayers.length}/${t.numLayers} layers frozen: ${planInfo.frozenLayers.join(', ') || '(none)'}`,
        `prefill FLOPs ${(planInfo.flopsRatio * 100).toFixed(1)}% of dense (${visualTokens} visual + ${textTokens} text tokens)`,
      );
    }
    ctx.io.stdout(`${lines.join('\n')}\n`);
    return 0;
  },
};
