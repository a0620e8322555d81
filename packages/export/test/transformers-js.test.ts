import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AutoProcessor,
  env,
  LlavaForConditionalGeneration,
  type PreTrainedModel,
  type Processor,
  RawImage,
  type Tensor as TjsTensor,
} from '@huggingface/transformers';
import { modelShapesDir, modelShapesGoldenPath, modelShapesPackageDir } from '@shortv/model-shapes/node';
import { parsePlan } from '@shortv/plan';
import { readModelFiles, VlmEngine } from '@shortv/runtime-core';
import { decodeImageFile, nodeModelFolder, nodePlatform } from '@shortv/runtime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportModel } from '../src/index.ts';

/**
 * The export opened by transformers.js itself (offline, its own processor, tokenizer and generate loop) must
 * give the same greedy answers on the bundled model's golden samples as our runtime: dense, and with a
 * freeze plan (the ShortV decoder inside its merged-decoder contract).
 */
interface GoldenSample {
  id: string;
  image: string;
  question: string;
  prompt_ids: number[];
  greedy_ids: number[];
  greedy_text: string;
}

const golden = JSON.parse(await readFile(modelShapesGoldenPath(), 'utf8')) as { samples: GoldenSample[] };
const FROZEN = [0, 1, 4, 5, 6, 10, 11];
const IMAGE_TOKEN = 4;
const EOS = 2;

interface Side {
  engine: VlmEngine;
  processor: Processor;
  model: PreTrainedModel;
}

let root: string;
const sides = new Map<'dense' | 'shortv', Side>();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'shortv-tjs-'));
  const files = await readModelFiles(nodeModelFolder(modelShapesDir()));
  const plan = parsePlan({
    format: 'shortv.freeze-plan',
    version: 1,
    model: { architecture: 'llava', numLayers: files.config.text.numLayers, fingerprint: files.fingerprint },
    layers: FROZEN.map((index) => ({ index, visual: 'freeze' })),
    prune: null,
    withdraw: null,
    lc: null,
    calibration: null,
    estimate: null,
  });
  env.allowRemoteModels = false;
  env.localModelPath = root;
  for (const form of ['dense', 'shortv'] as const) {
    const result = await exportModel({
      modelDir: modelShapesDir(),
      outDir: join(root, form),
      format: 'transformers.js',
      plan: form === 'shortv' ? plan : null,
    });
    expect(result.form).toBe(form);
    const engine = await VlmEngine.load(nodeModelFolder(modelShapesDir()), {
      platform: nodePlatform({ intraOpThreads: 1 }),
      plan: form === 'shortv' ? plan : null,
    });
    const processor = await AutoProcessor.from_pretrained(form);
    const model = await LlavaForConditionalGeneration.from_pretrained(form, {
      session_options: { intraOpNumThreads: 1 },
    });
    sides.set(form, { engine, processor, model });
  }
}, 120_000);

afterAll(async () => {
  for (const side of sides.values()) {
    await side.engine.dispose();
    await side.model.dispose();
  }
  await rm(root, { recursive: true, force: true });
});

async function transformersJsInputs(side: Side, sample: GoldenSample) {
  const messages = [{ role: 'user', content: sample.question }];
  const prompt = side.processor.tokenizer!.apply_chat_template(messages, {
    tokenize: false,
    add_generation_prompt: true,
  }) as string;
  const image = await RawImage.read(join(modelShapesPackageDir(), sample.image));
  return side.processor(image, prompt);
}

async function transformersJsAnswer(side: Side, sample: GoldenSample) {
  const inputs = await transformersJsInputs(side, sample);
  const promptIds = Array.from((inputs.input_ids as TjsTensor).data as BigInt64Array, Number);
  const output = (await side.model.generate({
    ...inputs,
    max_new_tokens: 64,
    do_sample: false,
  })) as TjsTensor;
  const all = Array.from(output.data as BigInt64Array, Number);
  const answerIds = all.slice(promptIds.length).filter((id) => id !== EOS);
  const text = side.processor.tokenizer!.decode(answerIds, { skip_special_tokens: true });
  return { promptIds, answerIds, text };
}

/** Next-token logits at the last prompt row: transformers.js' forward pass and our engine's prefill. */
async function promptLogits(side: Side, sample: GoldenSample) {
  const inputs = await transformersJsInputs(side, sample);
  const out = (await side.model(inputs)) as { logits: TjsTensor };
  const [, rows, vocab] = out.logits.dims as [number, number, number];
  const theirs = (out.logits.data as Float32Array).slice((rows - 1) * vocab, rows * vocab);
  const image = await decodeImageFile(join(modelShapesPackageDir(), sample.image));
  const ours = await side.engine.promptLogits({ prompt: sample.question, images: [image] });
  return { theirs, ours };
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

/** Our prompt layout: one `<image>` token per image, as in golden prompt_ids. */
function collapseImageTokens(ids: readonly number[]): number[] {
  return ids.filter((id, i) => id !== IMAGE_TOKEN || ids[i - 1] !== IMAGE_TOKEN);
}

describe('transformers.js opens the export and answers as our runtime does', () => {
  it('has golden samples', () => {
    expect(golden.samples.length).toBeGreaterThanOrEqual(8);
  });

  it('computes our logits in both forms, and the ShortV export really freezes visual rows', async () => {
    let shortvVsDense = 0;
    for (const sample of golden.samples.slice(0, 4)) {
      const dense = await promptLogits(sides.get('dense')!, sample);
      const shortv = await promptLogits(sides.get('shortv')!, sample);
      expect(dense.theirs).toHaveLength(60);
      expect(maxAbsDiff(dense.theirs, dense.ours)).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(shortv.theirs, shortv.ours)).toBeLessThanOrEqual(1e-4);
      shortvVsDense = Math.max(shortvVsDense, maxAbsDiff(shortv.theirs, dense.theirs));
    }
    // Freezing 7 layers moves the logits far more than float noise; an export that ran every row
    // densely would match the dense logits to ~1e-6.
    expect(shortvVsDense).toBeGreaterThan(1e-2);
  });

  it('answers a left-padded batch as our runtime answers each prompt (ShortV export, text rows from the mask)', async () => {
    const side = sides.get('shortv')!;
    const samples = golden.samples.slice(0, 4);
    const texts = samples.map(
      (s) =>
        side.processor.tokenizer!.apply_chat_template([{ role: 'user', content: s.question }], {
          tokenize: false,
          add_generation_prompt: true,
        }) as string,
    );
    const images = await Promise.all(
      samples.map((s) => RawImage.read(join(modelShapesPackageDir(), s.image))),
    );
    const inputs = await side.processor(images, texts, { padding: true });
    const mask = Array.from((inputs.attention_mask as TjsTensor).data as BigInt64Array);
    expect(mask.filter((m) => m === 0n).length).toBeGreaterThan(0);
    const out = (await side.model.generate({ ...inputs, max_new_tokens: 8, do_sample: false })) as TjsTensor;
    const [rows, length] = out.dims as [number, number];
    const promptLength = (inputs.input_ids as TjsTensor).dims[1]!;
    const data = Array.from(out.data as BigInt64Array, Number);
    for (let r = 0; r < rows; r++) {
      const answer = data.slice(r * length + promptLength, (r + 1) * length).filter((id) => id !== EOS);
      const image = await decodeImageFile(join(modelShapesPackageDir(), samples[r]!.image));
      const ours = await side.engine.run({ prompt: samples[r]!.question, images: [image], maxNewTokens: 8 });
      expect(answer.slice(0, ours.tokenIds.length)).toEqual(ours.tokenIds);
    }
  });

  for (const form of ['dense', 'shortv'] as const) {
    it.each(golden.samples.map((s) => [s.id, s] as const))(`${form}: %s`, async (_id, sample) => {
      const side = sides.get(form)!;
      const theirs = await transformersJsAnswer(side, sample);
      expect(theirs.promptIds.filter((id) => id === IMAGE_TOKEN)).toHaveLength(144);
      expect(collapseImageTokens(theirs.promptIds)).toEqual(sample.prompt_ids);
      const image = await decodeImageFile(join(modelShapesPackageDir(), sample.image));
      const ours = await side.engine.run({ prompt: sample.question, images: [image], maxNewTokens: 64 });
      expect(theirs.answerIds).toEqual(ours.tokenIds);
      expect(theirs.text).toBe(ours.text);
      if (form === 'dense') expect(theirs.text).toBe(sample.greedy_text);
    });
  }
});
