import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelShapesGoldenPath, modelShapesPackageDir } from '@shortv/model-shapes/node';
import { holdsQuantizedWeights, quantizedWeightName, quantizeLinear } from '@shortv/models';
import { encodeModel, GraphBuilder, MS_DOMAIN } from '@shortv/onnx';
import { VlmEngine } from '@shortv/runtime-core';
import { Tensor } from '@shortv/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImageFile, nodeModelFolder, nodePlatform } from '../src/index.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shortv-quantized-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The weight MatMulNBits should compute with, from our packed layout read back independently. */
function dequantize(
  packed: Uint8Array,
  scales: Float32Array,
  n: number,
  k: number,
  bits: 4 | 8,
  block: number,
) {
  const blocks = Math.ceil(k / block);
  const blob = (block * bits) / 8;
  const out = new Float32Array(n * k);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < k; c++) {
      const b = Math.floor(c / block);
      const j = c % block;
      const at = (r * blocks + b) * blob;
      const q = bits === 8 ? packed[at + j]! : (packed[at + (j >> 1)]! >> ((j & 1) * 4)) & 15;
      out[r * k + c] = (q - (1 << (bits - 1))) * scales[r * blocks + b]!;
    }
  }
  return out;
}

describe('block-quantized Linear weights', () => {
  it.each([4, 8] as const)(
    '%i-bit: ORT MatMulNBits on our packing equals x W^T of the dequantized weight',
    async (bits) => {
      const n = 48;
      const k = 80; // not a multiple of the block: the last block is padded
      const rows = 5;
      const w = Float32Array.from({ length: n * k }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 7)));
      const x = Float32Array.from({ length: rows * k }, (_, i) => Math.cos(i * 0.11));
      const { packed, scales } = quantizeLinear(new Tensor('float32', w, [n, k]), { bits, blockSize: 32 });
      const deq = dequantize(packed.data, scales.data, n, k, bits, 32);
      // Round-to-nearest: within half a step, except +2^(bits-1) steps (the extreme's mirror), clamped one step down.
      for (let r = 0; r < n; r++) {
        for (let c = 0; c < k; c++) {
          const scale = Math.abs(scales.data[r * 3 + Math.floor(c / 32)]!);
          expect(Math.abs(deq[r * k + c]! - w[r * k + c]!)).toBeLessThanOrEqual(scale + 1e-6);
        }
      }
      const g = new GraphBuilder('nbits');
      const input = g.input('x', 'float32', [rows, k]);
      const y = g.node(
        'MatMulNBits',
        [input, g.initializer('B', packed), g.initializer('scales', scales)],
        1,
        { K: k, N: n, bits, block_size: 32 },
        { domain: MS_DOMAIN },
      )[0]!;
      g.output('y', 'float32', [rows, n], { from: y });
      const platform = nodePlatform({ intraOpThreads: 1 });
      const session = await platform.createSession(encodeModel(g.toModel()).bytes);
      const out = (await session.run({ x: platform.createTensor('float32', x, [rows, k]) })).y!
        .data as Float32Array;
      await session.release();
      let worst = 0;
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < n; c++) {
          let ref = 0;
          for (let i = 0; i < k; i++) ref += x[r * k + i]! * deq[c * k + i]!;
          worst = Math.max(worst, Math.abs(out[r * n + c]! - ref));
        }
      }
      expect(worst).toBeLessThan(1e-3);
    },
  );

  it('runs the bundled model with int8 and int4 decoder weights close to fp32', async () => {
    const root = modelShapesPackageDir();
    const golden = JSON.parse(readFileSync(modelShapesGoldenPath(), 'utf8')) as {
      samples: { image: string; question: string }[];
    };
    const sample = golden.samples[0]!;
    const request = { prompt: sample.question, images: [await decodeImageFile(join(root, sample.image))] };
    const load = (weights: 'fp32' | 'int8' | 'int4') =>
      VlmEngine.load(nodeModelFolder(join(root, 'model')), {
        platform: nodePlatform({ intraOpThreads: 1, cacheDir: dir }),
        weights,
      });
    const fp32 = await load('fp32');
    const reference = await fp32.promptLogits(request);
    await fp32.dispose();
    const argmax = (v: Float32Array) => v.indexOf(Math.max(...v));
    // Relative to the spread of the fp32 logits, so the bound does not depend on the model's logit scale.
    const spread = Math.max(...reference) - Math.min(...reference);
    for (const [weights, tolerance] of [
      ['int8', 0.01],
      ['int4', 0.1],
    ] as const) {
      const engine = await load(weights);
      const logits = await engine.promptLogits(request);
      await engine.dispose();
      let worst = 0;
      for (let i = 0; i < reference.length; i++)
        worst = Math.max(worst, Math.abs(logits[i]! - reference[i]!));
      console.log(`${weights}: worst logit difference ${worst.toFixed(4)} of a ${spread.toFixed(2)} spread`);
      expect(worst).toBeGreaterThan(0); // the weights really are quantized
      expect(worst / spread).toBeLessThan(tolerance);
      expect(argmax(logits)).toBe(argmax(reference));
    }
  });

  it('answers alike with MatMulNBits weights prepacked (the default for quantized files) and per call', async () => {
    const name = 'text.layers.0.mlp.up_proj.weight';
    expect(holdsQuantizedWeights([name, quantizedWeightName(name, 4)])).toBe(true);
    expect(holdsQuantizedWeights([name, `${name}.T`, 'text.norm.weight'])).toBe(false);
    const root = modelShapesPackageDir();
    const sample = (
      JSON.parse(readFileSync(modelShapesGoldenPath(), 'utf8')) as {
        samples: { image: string; question: string }[];
      }
    ).samples[1]!;
    const request = { prompt: sample.question, images: [await decodeImageFile(join(root, sample.image))] };
    const logits = [];
    for (const prepackWeights of ['auto', false] as const) {
      const engine = await VlmEngine.load(nodeModelFolder(join(root, 'model')), {
        platform: nodePlatform({ intraOpThreads: 1, cacheDir: dir, prepackWeights }),
        weights: 'int4',
      });
      logits.push(await engine.promptLogits(request));
      await engine.dispose();
    }
    let worst = 0;
    for (let i = 0; i < logits[0]!.length; i++)
      worst = Math.max(worst, Math.abs(logits[0]![i]! - logits[1]![i]!));
    expect(worst).toBeLessThan(1e-3);
  });

  it('refuses quantized weights on a platform without a weights store', async () => {
    await expect(
      VlmEngine.load(nodeModelFolder(join(modelShapesPackageDir(), 'model')), {
        platform: nodePlatform({ intraOpThreads: 1 }),
        weights: 'int4',
      }),
    ).rejects.toMatchObject({ code: 'E_RUNTIME_OPTION' });
  });
});
