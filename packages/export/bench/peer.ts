/**
 * Side by side on one machine, in one run, interleaved: transformers.js on our dense export, transformers.js on
 * our ShortV export, our runtime dense, our runtime ShortV, each answering through its own generate loop.
 * Prefill = the decoder pass over the whole prompt (vision and embeddings excluded on both sides); decode =
 * steps per second after the first answer token. Medians over repeats x prompts; the ratios are the result (the machine may be shared).
 *
 *   pnpm --filter @shortv/export bench:peer [--preset onevision-0.5b] [--reps 5] [--new-tokens 16]
 *     [--threads 2] [--frozen 0,1,4] [--json] [--out report.md]
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  AutoProcessor,
  env,
  LlavaForConditionalGeneration,
  RawImage,
  type Tensor as TjsTensor,
} from '@huggingface/transformers';
import { modelShapesDir, modelShapesGoldenPath, modelShapesPackageDir } from '@shortv/model-shapes/node';
import { parsePlan } from '@shortv/plan';
import { readModelFiles, VlmEngine } from '@shortv/runtime-core';
import { decodeImageFile, nodeModelFolder, nodePlatform } from '@shortv/runtime-node';
import { exportModel } from '../src/index.ts';
import { createPreset, PRESETS } from './presets.ts';

const { values } = parseArgs({
  options: {
    preset: { type: 'string' },
    reps: { type: 'string', default: '5' },
    'new-tokens': { type: 'string', default: '16' },
    threads: { type: 'string', default: '2' },
    frozen: { type: 'string' },
    prompts: { type: 'string', default: '4' },
    json: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const reps = Number(values.reps);
const newTokens = Number(values['new-tokens']);
const threads = Number(values.threads);
const log = (s: string) => process.stderr.write(`${s}\n`);

interface Prompt {
  readonly image: string;
  readonly question: string;
}

const work = await mkdtemp(join(tmpdir(), 'shortv-bench-peer-'));
const source = join(work, 'model');
let prompts: Prompt[];
let frozen: number[];
let label: string;
if (values.preset) {
  const preset = PRESETS[values.preset];
  if (!preset) throw new Error(`unknown preset ${values.preset}; known: ${Object.keys(PRESETS).join(', ')}`);
  log(`writing the ${values.preset} random-weight folder...`);
  await createPreset(preset, source);
  prompts = [
    {
      image: join(modelShapesPackageDir(), 'samples', 'test-1-000000.png'),
      question: 'what is in the picture?',
    },
  ];
  frozen = preset.frozen;
  label = `${values.preset} (${preset.description})`;
} else {
  await mkdir(source);
  for (const f of await readdir(modelShapesDir())) await copyFile(join(modelShapesDir(), f), join(source, f));
  const golden = JSON.parse(await readFile(modelShapesGoldenPath(), 'utf8')) as { samples: Prompt[] };
  prompts = golden.samples
    .slice(0, Number(values.prompts))
    .map((s) => ({ image: join(modelShapesPackageDir(), s.image), question: s.question }));
  frozen = [0, 1, 4, 5, 6, 10, 11];
  label = 'bundled shapes model (12 layers, d 128, 144 visual tokens)';
}
if (values.frozen) frozen = values.frozen.split(',').map(Number);

// Both stacks stop at `<unk>` instead of `</s>` in this copy, so every run decodes exactly --new-tokens tokens.
const configPath = join(source, 'config.json');
const config = JSON.parse(await readFile(configPath, 'utf8'));
config.text_config.eos_token_id = 0;
await writeFile(configPath, JSON.stringify(config, null, 2));
await writeFile(
  join(source, 'generation_config.json'),
  JSON.stringify({ bos_token_id: 1, eos_token_id: 0, pad_token_id: 3 }),
);
const tokPath = join(source, 'tokenizer_config.json');
const tok = JSON.parse(await readFile(tokPath, 'utf8'));
tok.eos_token = '<unk>';
await writeFile(tokPath, JSON.stringify(tok, null, 2));

const files = await readModelFiles(nodeModelFolder(source));
const numLayers = files.config.text.numLayers;
const plan = parsePlan({
  format: 'shortv.freeze-plan',
  version: 1,
  model: { architecture: 'llava', numLayers, fingerprint: files.fingerprint },
  layers: frozen.map((index) => ({ index, visual: 'freeze' })),
  prune: null,
  withdraw: null,
  lc: null,
  calibration: null,
  estimate: null,
});

log('exporting dense and ShortV transformers.js folders...');
for (const [name, p] of [
  ['tjs-dense', null],
  ['tjs-shortv', plan],
] as const) {
  await exportModel({ modelDir: source, outDir: join(work, name), format: 'transformers.js', plan: p });
}
env.allowRemoteModels = false;
env.localModelPath = work;

const now = () => performance.now();
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface Arm {
  readonly name: string;
  /** One prompt: prefill ms and decode steps/s. */
  measure(prompt: Prompt): Promise<{ prefillMs: number; decodePerSecond: number; tokens: number[] }>;
  dispose(): Promise<void>;
}

async function ourArm(name: string, withPlan: boolean): Promise<Arm> {
  const engine = await VlmEngine.load(nodeModelFolder(source), {
    platform: nodePlatform({ intraOpThreads: threads }),
    plan: withPlan ? plan : null,
  });
  const images = new Map<string, Awaited<ReturnType<typeof decodeImageFile>>>();
  return {
    name,
    async measure(prompt) {
      if (!images.has(prompt.image)) images.set(prompt.image, await decodeImageFile(prompt.image));
      const r = await engine.run({
        prompt: prompt.question,
        images: [images.get(prompt.image)!],
        maxNewTokens: newTokens,
      });
      // decodeMs spans the steps after the first answer token (tokens - 1 of them).
      return {
        prefillMs: r.stats.prefillMs,
        decodePerSecond: ((r.tokenIds.length - 1) / r.stats.decodeMs) * 1000,
        tokens: r.tokenIds,
      };
    },
    dispose: () => engine.dispose(),
  };
}

async function transformersJsArm(name: string, folder: string): Promise<Arm> {
  const processor = await AutoProcessor.from_pretrained(folder);
  const model = await LlavaForConditionalGeneration.from_pretrained(folder, {
    session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
  });
  type Inputs = Record<string, TjsTensor>;
  // Prefill as our engine counts it: the first forward() of generate() (feeds, decoder run, outputs), less the
  // vision_encoder and embed_tokens runs inside it. The image-feature merge stays in (well under 1% here).
  type Runnable = { run: (feeds: unknown) => Promise<unknown> };
  const sessions = (model as unknown as { sessions: Record<string, Runnable> }).sessions;
  const timed = (target: { [k: string]: unknown }, key: string, sink: () => number[]) => {
    const original = (target[key] as (...a: unknown[]) => Promise<unknown>).bind(target);
    target[key] = async (...args: unknown[]) => {
      const start = now();
      const out = await original(...args);
      sink().push(now() - start);
      return out;
    };
  };
  let forwardMs: number[] = [];
  let encoderMs: number[] = [];
  timed(model as unknown as { [k: string]: unknown }, 'forward', () => forwardMs);
  for (const name of ['vision_encoder', 'embed_tokens']) {
    timed(sessions[name] as unknown as { [k: string]: unknown }, 'run', () => encoderMs);
  }
  const prepared = new Map<Prompt, Inputs>();
  const prepare = async (prompt: Prompt) => {
    const text = processor.tokenizer!.apply_chat_template([{ role: 'user', content: prompt.question }], {
      tokenize: false,
      add_generation_prompt: true,
    }) as string;
    return (await processor(await RawImage.read(prompt.image), text)) as Inputs;
  };
  return {
    name,
    async measure(prompt) {
      if (!prepared.has(prompt)) prepared.set(prompt, await prepare(prompt));
      const inputs = prepared.get(prompt)!;
      const stamps: number[] = [];
      const tokens: number[] = [];
      const streamer = {
        put(value: bigint[][]) {
          stamps.push(now());
          if (stamps.length > 1) tokens.push(Number(value[0]![0]));
        },
        end() {},
      };
      forwardMs = [];
      encoderMs = [];
      await model.generate({ ...inputs, max_new_tokens: newTokens, do_sample: false, streamer } as never);
      // stamps[0] is the prompt, stamps[1] the first answer token (after prefill), then one per decode step.
      const steps = stamps.length - 2;
      return {
        prefillMs: forwardMs[0]! - encoderMs[0]! - encoderMs[1]!,
        decodePerSecond: (steps / (stamps.at(-1)! - stamps[1]!)) * 1000,
        tokens,
      };
    },
    async dispose() {
      await model.dispose();
    },
  };
}

log(`loading four arms (${threads} threads each)...`);
const arms: Arm[] = [
  await transformersJsArm('transformers.js dense', 'tjs-dense'),
  await transformersJsArm('transformers.js ShortV export', 'tjs-shortv'),
  await ourArm('ShortV-TS dense', false),
  await ourArm('ShortV-TS ShortV', true),
];
const prefill = new Map<string, number[]>(arms.map((a) => [a.name, []]));
const decode = new Map<string, number[]>(arms.map((a) => [a.name, []]));
const agree: boolean[] = [];
log('warm-up...');
for (const arm of arms) await arm.measure(prompts[0]!);
for (let rep = 0; rep < reps; rep++) {
  for (const [i, prompt] of prompts.entries()) {
    const tokens = new Map<string, number[]>();
    for (let k = 0; k < arms.length; k++) {
      const arm = arms[(k + rep + i) % arms.length]!;
      const r = await arm.measure(prompt);
      prefill.get(arm.name)!.push(r.prefillMs);
      decode.get(arm.name)!.push(r.decodePerSecond);
      tokens.set(arm.name, r.tokens);
    }
    const same = (a: string, b: string) => JSON.stringify(tokens.get(a)) === JSON.stringify(tokens.get(b));
    agree.push(same(arms[0]!.name, arms[2]!.name) && same(arms[1]!.name, arms[3]!.name));
  }
  log(`repeat ${rep + 1}/${reps} done`);
}
for (const arm of arms) await arm.dispose();
await rm(work, { recursive: true, force: true });

const base = median(prefill.get(arms[0]!.name)!);
const baseDecode = median(decode.get(arms[0]!.name)!);
const rows = arms.map((arm) => {
  const p = median(prefill.get(arm.name)!);
  const d = median(decode.get(arm.name)!);
  return {
    arm: arm.name,
    prefillMs: p,
    prefillVsTjsDense: p / base,
    decodeTokensPerSecond: d,
    decodeVsTjsDense: d / baseDecode,
  };
});
const report = {
  model: label,
  frozenLayers: frozen,
  numLayers,
  threads,
  reps,
  prompts: prompts.length,
  newTokens,
  sameTokensAsTransformersJs: agree.every(Boolean),
  rows,
};
const md = [
  `Model: ${label}; ShortV freezes ${frozen.length}/${numLayers} layers; ${threads} threads per arm; ${reps} repeats x ${prompts.length} prompts, arms interleaved; ${newTokens} new tokens.`,
  '',
  '| arm | prefill ms (median) | prefill vs transformers.js dense | decode tokens/s (median) | decode vs transformers.js dense |',
  '| --- | --- | --- | --- | --- |',
  ...rows.map(
    (r) =>
      `| ${r.arm} | ${r.prefillMs.toFixed(2)} | ${r.prefillVsTjsDense.toFixed(3)}x | ${r.decodeTokensPerSecond.toFixed(1)} | ${r.decodeVsTjsDense.toFixed(3)}x |`,
  ),
  '',
  `Same answer tokens from transformers.js and ShortV-TS (dense and ShortV) on every run: ${report.sameTokensAsTransformersJs}.`,
].join('\n');
if (values.out) await writeFile(values.out, `${md}\n`);
process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : `${md}\n`);
