/**
 * Prefill timing of the bundled model, dense against a ShortV plan, interleaved per sample
 * (`measurePrefill`). A benchmark, not a test: run it on an otherwise idle machine.
 *
 *   pnpm --filter @shortv/eval bench [--samples 16] [--repeats 5] [--warmup 1] [--freeze 7 | --layers 5,6,7] [--threads 0]
 */
import { parseArgs } from 'node:util';
import { modelShapesDir } from '@shortv/model-shapes/node';
import { parsePlan } from '@shortv/plan';
import { VlmEngine } from '@shortv/runtime-core';
import { nodeModelFolder, nodePlatform } from '@shortv/runtime-node';
import { generateSample } from '@shortv/shapes';
import { type EvalSample, measurePrefill } from '../src/index.ts';

const { values } = parseArgs({
  options: {
    samples: { type: 'string', default: '16' },
    repeats: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    freeze: { type: 'string' },
    layers: { type: 'string' },
    threads: { type: 'string', default: '0' },
    model: { type: 'string' },
  },
});

const folder = nodeModelFolder(values.model ?? modelShapesDir());
const platform = nodePlatform({ intraOpThreads: Number(values.threads) });
const dense = await VlmEngine.load(folder, { platform });
const numLayers = dense.config.text.numLayers;
// Without LC at hand, the last layers are the usual least-contributing ones (METHOD §3).
const frozen = values.layers
  ? values.layers.split(',').map(Number)
  : Array.from({ length: Number(values.freeze ?? Math.round(numLayers * 0.6)) }, (_, i) => numLayers - 1 - i);
const plan = parsePlan({
  format: 'shortv.freeze-plan',
  version: 1,
  model: { architecture: 'llava', numLayers, fingerprint: dense.fingerprint },
  layers: frozen.map((index) => ({ index, visual: 'freeze' })),
  prune: null,
  withdraw: null,
  lc: null,
  calibration: null,
  estimate: null,
});
const planned = await VlmEngine.load(folder, { platform, plan });

const samples: EvalSample[] = Array.from({ length: Number(values.samples) }, (_, index) => {
  const sample = generateSample({ split: 'test', seed: 1, index });
  const question = sample.questions[index % sample.questions.length]!;
  return { ...question, loadImage: async () => sample.image };
});

const started = performance.now();
const result = await measurePrefill({ dense, planned }, samples, {
  repeats: Number(values.repeats),
  warmup: Number(values.warmup),
});
const { perSample: _perSample, ...summary } = result;
console.log(
  JSON.stringify(
    { model: folder.location, numLayers, ...summary, seconds: (performance.now() - started) / 1000 },
    null,
    2,
  ),
);
await Promise.all([dense.dispose(), planned.dispose()]);
