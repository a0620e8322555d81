/**
 * Times Layer Contribution with the naive schedule (one full forward pass per ablation) and the
 * prefix-cached one (passes from each layer's clean input, ablations stacked as batch rows; with
 * `--max-batch` rows per run, and with 2 rows: one run per layer) on the same samples, in one process,
 * and prints the median time of each and their ratios.
 *
 *   pnpm --filter @shortv/lc bench [-- --model DIR] [--data DIR] [--samples 8] [--reps 5] [--threads 1]
 *                                  [--max-batch 8] [--random] [--json]
 *
 * Default model: the bundled trained model (packages/model-shapes/model) when its files are there, else
 * a random model of the same shapes written to a temporary folder (also with `--random`). Default data: shapes calibration
 * samples (split `calibration`, seed 0, as `shortv dataset shapes --split calibration` writes them),
 * generated in memory; `--data DIR` reads a written shapes dataset instead.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MODEL_SHAPES_FILES } from '@shortv/model-shapes';
import { modelShapesDir } from '@shortv/model-shapes/node';
import { VlmEngine } from '@shortv/runtime-core';
import { nodeModelFolder, nodePlatform } from '@shortv/runtime-node';
import { generateSample, type QuestionRecord } from '@shortv/shapes';
import { readShapesDataset, readShapesImage } from '@shortv/shapes/node';
import type { RawImage } from '@shortv/tensor';
import { type LcResult, type LcSample, layerContribution } from '../src/index.ts';
import { writeBenchModel } from './tiny-model.ts';

// `pnpm bench -- --flag` passes the `--` through.
const argv = process.argv.slice(2);
const { values } = parseArgs({
  args: argv[0] === '--' ? argv.slice(1) : argv,
  options: {
    model: { type: 'string' },
    data: { type: 'string' },
    samples: { type: 'string', default: '8' },
    reps: { type: 'string', default: '5' },
    threads: { type: 'string', default: '1' },
    'max-batch': { type: 'string', default: '8' },
    random: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});

function count(name: 'samples' | 'reps' | 'threads' | 'max-batch'): number {
  const value = Number(values[name]);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name} must be an integer >= 1, got "${values[name]}"`);
    process.exit(1);
  }
  return value;
}

const sampleCount = count('samples');
const reps = count('reps');
const threads = count('threads');
const maxBatch = count('max-batch');
const log = (line: string) => {
  if (!values.json) console.log(line);
};

/** One question per image, rotating through each image's questions so every family shows up. */
function pickQuestion(questions: readonly QuestionRecord[], i: number): QuestionRecord {
  return questions[i % questions.length]!;
}

function calibrationSamples(): { samples: LcSample[]; dataset: string } {
  if (values.data) {
    const ds = readShapesDataset(values.data);
    const samples = ds.scenes.slice(0, sampleCount).map((scene, i) => {
      const q = pickQuestion(
        ds.questions.filter((x) => x.imageId === scene.id),
        i,
      );
      return {
        id: q.id,
        prompt: q.question,
        answer: q.answer,
        images: [readShapesImage(values.data!, scene)],
      };
    });
    return { samples, dataset: values.data };
  }
  const samples = Array.from({ length: sampleCount }, (_, index) => {
    const sample = generateSample({ split: 'calibration', seed: 0, index });
    const q = pickQuestion(sample.questions, index);
    return { id: q.id, prompt: q.question, answer: q.answer, images: [sample.image as RawImage] };
  });
  return { samples, dataset: 'shapes calibration (seed 0, generated in memory)' };
}

async function modelDir(): Promise<{ dir: string; label: string; cleanup?: () => Promise<void> }> {
  if (values.model) return { dir: values.model, label: values.model };
  const bundled = modelShapesDir();
  const missing = MODEL_SHAPES_FILES.filter((f) => f !== 'README.md' && !existsSync(join(bundled, f)));
  if (missing.length === 0 && !values.random) return { dir: bundled, label: `bundled model (${bundled})` };
  const dir = await mkdtemp(join(tmpdir(), 'shortv-lc-bench-'));
  await writeBenchModel(dir);
  const why = values.random
    ? 'asked for with --random'
    : `the bundled model is missing ${missing.join(', ')}`;
  log(`using a random 12-layer model written to ${dir} (${why})`);
  return {
    dir,
    label: `random 12-layer model (${why})`,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Largest relative difference among LC values above float32 round-off (1e-10); the rest are ~0 in both. */
function maxRelativeDiff(a: LcResult, b: LcResult): number {
  let worst = 0;
  for (const group of ['visual', 'text'] as const) {
    a[group].forEach((v, l) => {
      const ref = b[group][l]!;
      const scale = Math.max(Math.abs(v), Math.abs(ref));
      if (scale > 1e-10) worst = Math.max(worst, Math.abs(v - ref) / scale);
    });
  }
  return worst;
}

const model = await modelDir();
const engine = await VlmEngine.load(nodeModelFolder(model.dir), {
  platform: nodePlatform(),
  session: { intraOpThreads: threads },
});
const { samples, dataset } = calibrationSamples();
const L = engine.config.text.numLayers;
log(
  `model: ${model.label}, ${L} layers; ${samples.length} samples from ${dataset}; ${threads} ORT thread(s)`,
);

type Variant = 'naive' | 'prefix' | 'prefix-per-layer';
const VARIANTS: Record<Variant, { schedule: 'naive' | 'prefix'; maxBatch: number }> = {
  naive: { schedule: 'naive', maxBatch: 2 },
  prefix: { schedule: 'prefix', maxBatch },
  // The plain prefix schedule: one batch of 2 rows (visual, text ablation) per layer.
  'prefix-per-layer': { schedule: 'prefix', maxBatch: 2 },
};
const variants = Object.keys(VARIANTS) as Variant[];

// Build every session and run each variant once before timing, so none pays graph building.
await engine.layerwise().warmUp();
for (const v of variants) await layerContribution(engine, samples.slice(0, 1), VARIANTS[v]);

const times = Object.fromEntries(variants.map((v) => [v, [] as number[]])) as Record<Variant, number[]>;
let last: Partial<Record<Variant, LcResult>> = {};
for (let rep = 0; rep < reps; rep++) {
  // Rotate the order so drift on a shared machine does not favour one variant.
  const order = variants.map((_, k) => variants[(k + rep) % variants.length]!);
  last = {};
  for (const v of order) {
    const start = performance.now();
    last[v] = await layerContribution(engine, samples, VARIANTS[v]);
    times[v].push((performance.now() - start) / 1000);
  }
  log(`rep ${rep + 1}/${reps}: ${variants.map((v) => `${v} ${times[v].at(-1)!.toFixed(3)} s`).join(', ')}`);
}
const naive = median(times.naive);
const prefix = median(times.prefix);
const perLayer = median(times['prefix-per-layer']);
const diff = Math.max(
  maxRelativeDiff(last.prefix!, last.naive!),
  maxRelativeDiff(last['prefix-per-layer']!, last.naive!),
);
const seqRows = (await engine.preparePrompt({ prompt: samples[0]!.prompt, images: samples[0]!.images })).seq;
await engine.dispose();
await model.cleanup?.();

const report = {
  model: model.label,
  numLayers: L,
  samples: samples.length,
  promptRows: seqRows,
  reps,
  threads,
  maxBatch,
  naiveSeconds: naive,
  prefixSeconds: prefix,
  prefixPerLayerSeconds: perLayer,
  ratio: prefix / naive,
  perLayerRatio: perLayer / naive,
  workRatio: (L + 2) / (2 * (L + 1)),
  maxRelativeDiff: diff,
  visual: last.prefix!.visual,
};
if (values.json) {
  console.log(JSON.stringify(report));
} else {
  log(
    `median over ${reps} reps: naive ${naive.toFixed(3)} s, prefix-cached (maxBatch ${maxBatch}) ${prefix.toFixed(3)} s, prefix-cached per layer (maxBatch 2) ${perLayer.toFixed(3)} s`,
  );
  log(`time ratio prefix-cached / naive: ${report.ratio.toFixed(3)}`);
  log(
    `time ratio prefix-cached per layer / naive: ${report.perLayerRatio.toFixed(3)} (layer-row work ratio (L+2)/(2(L+1)) = ${report.workRatio.toFixed(3)})`,
  );
  log(`LC equality: max relative difference prefix vs naive ${diff.toExponential(2)}`);
  log(`visual LC: ${report.visual.map((v) => v.toExponential(2)).join(' ')}`);
}
