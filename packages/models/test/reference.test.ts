import { Tensor } from '@shortv/tensor';
import { describe, expect, it } from 'vitest';
import {
  findImageTokens,
  mergeImageFeatures,
  referenceDecoder,
  referenceImageFeatures,
} from '../src/index.ts';
import { erf } from '../src/reference/math.ts';
import { loadTiny, maxAbsDiff, randomEmbeds, randomPixels, row } from './helpers.ts';

const seqPositions = (n: number, start = 0) => Array.from({ length: n }, (_, i) => start + i);

describe('reference math', () => {
  it('erf matches tabulated values', () => {
    const table: [number, number][] = [
      [0, 0],
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [3, 0.9999779095030014],
      [-1.5, -0.9661051464753108],
    ];
    for (const [x, y] of table) expect(Math.abs(erf(x) - y)).toBeLessThan(1e-13);
  });
});

describe('referenceDecoder', () => {
  it('attends causally by position id, not by row order', async () => {
    const { config, weights } = await loadTiny({ seed: 11, numKvHeads: 2 });
    const seq = 7;
    const d = config.text.hiddenSize;
    const embeds = randomEmbeds(5, 1, seq, d);
    const base = referenceDecoder(config, weights, {
      inputsEmbeds: embeds,
      positionIds: [seqPositions(seq)],
    });
    // Shuffle rows together with their positions: each row's result must follow it.
    const order = [3, 0, 6, 1, 5, 2, 4];
    const shuffled = new Float32Array(seq * d);
    order.forEach((src, dst) => {
      shuffled.set(embeds.data.subarray(src * d, (src + 1) * d), dst * d);
    });
    const perm = referenceDecoder(config, weights, {
      inputsEmbeds: new Tensor('float32', shuffled, [1, seq, d]),
      positionIds: [order],
    });
    const vocab = config.text.vocabSize;
    let worst = 0;
    order.forEach((src, dst) => {
      worst = Math.max(
        worst,
        maxAbsDiff(row(perm.logits, seq, vocab, 0, dst), row(base.logits, seq, vocab, 0, src)),
      );
    });
    expect(worst).toBeLessThan(1e-9);
    // And the last row depends on earlier rows: changing row 0 changes it.
    const changed = Float32Array.from(embeds.data);
    changed[0] = changed[0]! + 1;
    const other = referenceDecoder(config, weights, {
      inputsEmbeds: new Tensor('float32', changed, [1, seq, d]),
      positionIds: [seqPositions(seq)],
    });
    expect(
      maxAbsDiff(row(other.logits, seq, vocab, 0, seq - 1), row(base.logits, seq, vocab, 0, seq - 1)),
    ).toBeGreaterThan(1e-6);
    expect(
      maxAbsDiff(row(other.logits, seq, vocab, 0, 0), row(base.logits, seq, vocab, 0, 0)),
    ).toBeGreaterThan(1e-6);
  });

  it('RoPE makes attention depend only on relative positions', async () => {
    const { config, weights } = await loadTiny({ seed: 12 });
    const embeds = randomEmbeds(6, 1, 5, config.text.hiddenSize);
    const a = referenceDecoder(config, weights, { inputsEmbeds: embeds, positionIds: [seqPositions(5)] });
    const b = referenceDecoder(config, weights, { inputsEmbeds: embeds, positionIds: [seqPositions(5, 40)] });
    expect(maxAbsDiff(a.logits, b.logits)).toBeLessThan(1e-9);
  });

  it('left padding leaves real rows unchanged', async () => {
    const { config, weights } = await loadTiny({ seed: 13, text: 'qwen2', numKvHeads: 1 });
    const d = config.text.hiddenSize;
    const real = randomEmbeds(7, 1, 4, d);
    const padded = new Float32Array(6 * d);
    padded.set(real.data, 2 * d);
    padded.fill(9, 0, 2 * d);
    const plain = referenceDecoder(config, weights, { inputsEmbeds: real, positionIds: [seqPositions(4)] });
    const withPad = referenceDecoder(config, weights, {
      inputsEmbeds: new Tensor('float32', padded, [1, 6, d]),
      positionIds: [[1, 1, 0, 1, 2, 3]],
      attentionMask: [[0, 0, 1, 1, 1, 1]],
    });
    const vocab = config.text.vocabSize;
    expect(maxAbsDiff(withPad.logits.subarray(2 * vocab), plain.logits)).toBeLessThan(1e-9);
  });

  it('grouped-query attention equals MHA with each KV head repeated', async () => {
    const gqa = await loadTiny({ seed: 14, numKvHeads: 2 });
    const mhaConfig = { ...gqa.config, text: { ...gqa.config.text, numKvHeads: 4 } };
    const expanded = new Map(gqa.weights);
    const hd = gqa.config.text.headDim;
    const d = gqa.config.text.hiddenSize;
    for (let layer = 0; layer < gqa.config.text.numLayers; layer++) {
      for (const p of ['k_proj', 'v_proj']) {
        const name = `text.layers.${layer}.self_attn.${p}.weight`;
        const w = gqa.weights.get(name)!;
        const out = new Float32Array(4 * hd * d);
        for (let h = 0; h < 4; h++)
          out.set(w.data.subarray(Math.floor(h / 2) * hd * d, (Math.floor(h / 2) + 1) * hd * d), h * hd * d);
        expanded.set(name, new Tensor('float32', out, [4 * hd, d]));
      }
    }
    const embeds = randomEmbeds(8, 1, 6, d);
    const a = referenceDecoder(gqa.config, gqa.weights, {
      inputsEmbeds: embeds,
      positionIds: [seqPositions(6)],
    });
    const b = referenceDecoder(mhaConfig, expanded, { inputsEmbeds: embeds, positionIds: [seqPositions(6)] });
    expect(maxAbsDiff(a.logits, b.logits)).toBeLessThan(1e-12);
  });

  it('an update mask of zero passes those rows through the layer unchanged', async () => {
    const { config, weights } = await loadTiny({ seed: 15 });
    const d = config.text.hiddenSize;
    const embeds = randomEmbeds(9, 1, 6, d);
    const positionIds = [seqPositions(6)];
    const ones = referenceDecoder(config, weights, {
      inputsEmbeds: embeds,
      positionIds,
      updateMask: () => 1,
    });
    const plain = referenceDecoder(config, weights, { inputsEmbeds: embeds, positionIds });
    expect(maxAbsDiff(ones.logits, plain.logits)).toBe(0);
    const frozen = referenceDecoder(config, weights, {
      inputsEmbeds: embeds,
      positionIds,
      updateMask: (layer, _b, r) => (layer === 1 && r >= 1 && r <= 3 ? 0 : 1),
    });
    const before = frozen.hiddenStates[1]!;
    const after = frozen.hiddenStates[2]!;
    expect(maxAbsDiff(after.subarray(d, 4 * d), before.subarray(d, 4 * d))).toBe(0);
    expect(maxAbsDiff(after.subarray(0, d), before.subarray(0, d))).toBeGreaterThan(1e-3);
    // Row 0 precedes the frozen rows and cannot see them: unchanged from the plain run.
    expect(maxAbsDiff(frozen.hiddenStates[3]!.subarray(0, d), plain.hiddenStates[3]!.subarray(0, d))).toBe(0);
    expect(maxAbsDiff(frozen.logits, plain.logits)).toBeGreaterThan(1e-4);
  });
});

describe('vision reference', () => {
  it('yields n_v projected rows per image for CLIP (class token dropped) and SigLIP (full)', async () => {
    for (const vision of ['clip', 'siglip'] as const) {
      const { config, weights } = await loadTiny({ seed: 16, vision });
      const pixels = randomPixels(3, 2, config);
      const features = referenceImageFeatures(config, weights, pixels);
      expect(features.dims).toEqual([2, 16, config.text.hiddenSize]);
      const [first, second] = [features.data.subarray(0, 16 * 32), features.data.subarray(16 * 32)];
      expect(maxAbsDiff(first, second)).toBeGreaterThan(1e-3);
      for (const v of features.data) expect(Number.isFinite(v)).toBe(true);
      const single = referenceImageFeatures(
        config,
        weights,
        new Tensor('float32', pixels.data.slice(pixels.data.length / 2), [1, 3, 16, 16]),
      );
      expect(maxAbsDiff(single.data, second)).toBe(0);
    }
  });
});

describe('mergeImageFeatures', () => {
  it('expands each image token into its n_v rows, in order', () => {
    const d = 2;
    const ids = [5, 63, 7, 63, 9];
    const positions = findImageTokens(ids, 63);
    expect(positions).toEqual([1, 3]);
    const tokens = new Tensor('float32', Float32Array.from(ids.flatMap((id) => [id, -id])), [5, d]);
    const features = new Tensor(
      'float32',
      Float32Array.from([100, 101, 102, 103, 104, 105, 200, 201, 202, 203, 204, 205]),
      [2, 3, d],
    );
    const merged = mergeImageFeatures(tokens, features, positions);
    expect(merged.embeds.dims).toEqual([9, d]);
    expect([...merged.embeds.data]).toEqual([
      5, -5, 100, 101, 102, 103, 104, 105, 7, -7, 200, 201, 202, 203, 204, 205, 9, -9,
    ]);
    expect(merged.visual).toEqual([false, true, true, true, false, true, true, true, false]);
    expect(merged.textIndex).toEqual([0, 4, 8]);
    expect(() => mergeImageFeatures(tokens, features, [1])).toThrow(/2 images/);
  });
});
