import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPromptIds, VlmEngine } from '@shortv/runtime-core';
import { Tensor } from '@shortv/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImageFile, nodeModelFolder, nodePlatform } from '../src/index.ts';

/**
 * Small random-weight LLaVA folders for architecture variants (Qwen2 + SigLIP, sliding windows, RoPE
 * scaling, tied embeddings, multi-layer vision features) through our ONNX graphs must reproduce what
 * tooling/train/variants.py, a PyTorch model written from Hugging Face's modelling code, computed for
 * them (golden.json in each folder, written by tooling/train/golden_variants.py).
 */
interface VariantGolden {
  variant: string;
  note: string;
  image: string;
  question: string;
  prompt_ids: number[];
  expanded_length: number;
  last_logits: number[];
  layer_last_token_norms: number[];
  greedy_ids: number[];
  feature_effect: number | null;
}

const LOGIT_TOLERANCE = 1e-3;
const root = join(import.meta.dirname, 'fixtures', 'golden-variants');
const variants = readdirSync(root, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();
const engines: VlmEngine[] = [];
const maxLogitDiff: Record<string, number> = {};

afterAll(async () => {
  console.log(`max |logit - PyTorch| per variant: ${JSON.stringify(maxLogitDiff)}`);
  await Promise.all(engines.map((engine) => engine.dispose()));
});

function l2(values: Float32Array): number {
  let s = 0;
  for (const v of values) s += v * v;
  return Math.sqrt(s);
}

describe('architecture variants vs their PyTorch golden outputs', () => {
  it('has every variant the suite is meant to cover', () => {
    expect(variants).toEqual([
      'clip-feature-layers-full',
      'llama-rope-dynamic',
      'llama-rope-linear',
      'llama-tied-embeddings',
      'mistral-sliding-window',
      'qwen2-siglip-qkv-bias',
      'qwen2-sliding-window',
    ]);
  });

  it.each(variants)('%s', async (name) => {
    const folder = join(root, name);
    const golden = JSON.parse(readFileSync(join(folder, 'golden.json'), 'utf8')) as VariantGolden;
    // The variant's feature must move the logits far beyond the tolerance, or this check proves nothing.
    if (golden.feature_effect !== null) expect(golden.feature_effect).toBeGreaterThan(100 * LOGIT_TOLERANCE);
    const engine = await VlmEngine.load(nodeModelFolder(folder), {
      platform: nodePlatform({ intraOpThreads: 1 }),
    });
    engines.push(engine);
    const files = engine.files;
    const image = await decodeImageFile(join(folder, golden.image));
    const ids = buildPromptIds(files.tokenizer, golden.question, 1, files.config.imageTokenIndex).ids;
    expect(ids).toEqual(golden.prompt_ids);

    const prepared = await engine.preparePrompt({ prompt: golden.question, images: [image] });
    expect(prepared.seq).toBe(golden.expanded_length);
    const runner = engine.layerwise();
    const clean = await runner.cleanPass(prepared);
    const logits = clean.logits.data;
    expect(logits.length).toBe(golden.last_logits.length);
    let maxDiff = 0;
    golden.last_logits.forEach((v, i) => {
      maxDiff = Math.max(maxDiff, Math.abs(v - logits[i]!));
    });
    maxLogitDiff[name] = Number(maxDiff.toPrecision(3));
    expect(maxDiff, `max |logit diff| of ${name}`).toBeLessThanOrEqual(LOGIT_TOLERANCE);

    const d = files.config.text.hiddenSize;
    const last = prepared.seq - 1;
    const L = files.config.text.numLayers;
    const outputs = clean.layerInputs.slice(1);
    const finalInput = new Tensor('float32', clean.layerInputs[L - 1]!, [1, prepared.seq, d]);
    outputs.push((await runner.runLayers(L - 1, L, finalInput)).data);
    const norms = outputs.map((h) => l2(h.subarray(last * d, (last + 1) * d)));
    expect(norms).toHaveLength(golden.layer_last_token_norms.length);
    norms.forEach((n, i) => {
      expect(Math.abs(n - golden.layer_last_token_norms[i]!), `layer ${i} norm`).toBeLessThanOrEqual(
        1e-3 * Math.max(1, n),
      );
    });

    const result = await engine.run({
      prompt: golden.question,
      images: [image],
      maxNewTokens: golden.greedy_ids.length,
    });
    expect(result.tokenIds).toEqual(golden.greedy_ids);
  });
});
