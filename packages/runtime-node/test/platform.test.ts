import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { encodeModel, GraphBuilder } from '@shortv/onnx';
import { defaultPlatform } from '@shortv/runtime-core';
import { float16ToFloat32, float32ToFloat16, Tensor } from '@shortv/tensor';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskGraphCache, nodePlatform } from '../src/index.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shortv-platform-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function seeded(length: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** logits = embed[ids] @ w + b, probs = softmax(logits), plus half = cast(logits, float16). */
function tinyModel(vocab: number, dim: number, out: number) {
  const table = seeded(vocab * dim, 1);
  const w = seeded(dim * out, 2);
  const b = seeded(out, 3);
  const g = new GraphBuilder('tiny');
  const ids = g.input('input_ids', 'int64', ['batch', 'seq']);
  const rows = g.op.Gather(g.initializer('embed', new Tensor('float32', table, [vocab, dim])), ids, {
    axis: 0,
  });
  const logits = g.op.Add(
    g.op.MatMul(rows, g.initializer('w', new Tensor('float32', w, [dim, out]))),
    g.initializer('b', new Tensor('float32', b, [out])),
  );
  g.output('logits', 'float32', ['batch', 'seq', out], { from: logits });
  g.output('probs', 'float32', ['batch', 'seq', out], { from: g.op.Softmax(logits, { axis: -1 }) });
  g.output('half', 'float16', ['batch', 'seq', out], { from: g.op.Cast(logits, { to: 'float16' }) });
  const reference = (id: number): number[] => {
    const row = table.subarray(id * dim, (id + 1) * dim);
    return Array.from({ length: out }, (_, j) => row.reduce((acc, x, k) => acc + x * w[k * out + j]!, b[j]!));
  };
  return { bytes: encodeModel(g.toModel()).bytes, reference };
}

function softmax(row: number[]): number[] {
  const max = Math.max(...row);
  const exps = row.map((x) => Math.exp(x - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

describe('nodePlatform', () => {
  it('registers itself as the default platform when the package is imported', () => {
    expect(defaultPlatform()?.name).toBe('node');
  });

  it('runs a tiny model end to end through createSession and createTensor', async () => {
    const [vocab, dim, out] = [7, 8, 5];
    const { bytes, reference } = tinyModel(vocab, dim, out);
    const platform = nodePlatform({ intraOpThreads: 1 });
    const session = await platform.createSession(bytes);
    const idList = [6, 0, 3, 3, 1, 5];
    const input = platform.createTensor('int64', BigInt64Array.from(idList, BigInt), [2, 3]);
    expect(input).toBeInstanceOf(ort.Tensor);
    const result = await session.run({ input_ids: input });
    await session.release();

    expect(result.logits!.dims).toEqual([2, 3, out]);
    const logits = result.logits!.data as Float32Array;
    const probs = result.probs!.data as Float32Array;
    const half = float16ToFloat32(result.half!.data as Uint16Array);
    idList.forEach((id, t) => {
      const expected = reference(id);
      const p = softmax(expected);
      for (let j = 0; j < out; j++) {
        expect(Math.abs(logits[t * out + j]! - expected[j]!)).toBeLessThan(1e-5);
        expect(Math.abs(probs[t * out + j]! - p[j]!)).toBeLessThan(1e-6);
        expect(Math.abs(half[t * out + j]! - expected[j]!)).toBeLessThan(
          2e-3 * Math.max(1, Math.abs(expected[j]!)),
        );
      }
    });
  });

  it('makes float16, float32, int32 and bool tensors that sessions accept', async () => {
    const g = new GraphBuilder('casts');
    const h = g.input('h', 'float16', [3]);
    const f = g.input('f', 'float32', [3]);
    const i = g.input('i', 'int32', [3]);
    const m = g.input('m', 'bool', [3]);
    const sum = g.op.Add(g.op.Add(g.op.Cast(h, { to: 'float32' }), f), g.op.Cast(i, { to: 'float32' }));
    g.output('y', 'float32', [3], { from: g.op.Where(m, sum, g.op.Neg(sum)) });
    const platform = nodePlatform();
    const session = await platform.createSession(encodeModel(g.toModel()).bytes, { intraOpThreads: 2 });
    const result = await session.run({
      h: platform.createTensor('float16', float32ToFloat16(Float32Array.of(0.5, 1.5, -2)), [3]),
      f: platform.createTensor('float32', Float32Array.of(1, 2, 3), [3]),
      i: platform.createTensor('int32', Int32Array.of(10, 20, 30), [3]),
      m: platform.createTensor('bool', Uint8Array.of(1, 0, 1), [3]),
    });
    await session.release();
    expect(Array.from(result.y!.data as Float32Array)).toEqual([11.5, -23.5, 31]);
  });

  it('gives the platform a disk graph cache when asked, whose gunzipped entries ORT also loads by path', async () => {
    expect(nodePlatform().graphCache).toBeUndefined();
    const platform = nodePlatform({ cacheDir: join(dir, 'graphs') });
    expect(platform.graphCache).toBeInstanceOf(DiskGraphCache);

    const { bytes, reference } = tinyModel(4, 3, 2);
    await platform.graphCache!.put('tiny-1', bytes);
    const cached = await platform.graphCache!.get('tiny-1');
    const session = await platform.createSession(cached!);
    // `head -c -83 entry | gunzip > graph.onnx`: the entry less its 83-byte trailer is a gzip file.
    const entry = await readFile((platform.graphCache as DiskGraphCache).entryPath('tiny-1'));
    await writeFile(join(dir, 'tiny-1.onnx'), gunzipSync(entry.subarray(0, entry.length - 83)));
    const direct = await ort.InferenceSession.create(join(dir, 'tiny-1.onnx'));
    for (const s of [session, direct]) {
      const out = await s.run({ input_ids: platform.createTensor('int64', BigInt64Array.of(2n), [1, 1]) });
      const logits = Array.from(out.logits!.data as Float32Array);
      for (const [j, v] of reference(2).entries()) expect(Math.abs(logits[j]! - v)).toBeLessThan(1e-5);
      await s.release();
    }
  });

  it('explains a model ORT cannot load and refuses bad thread counts', async () => {
    const platform = nodePlatform();
    await expect(platform.createSession(new TextEncoder().encode('not a model'))).rejects.toMatchObject({
      code: 'E_RUNTIME_SESSION',
    });
    expect(() => nodePlatform({ intraOpThreads: -1 })).toThrow(
      expect.objectContaining({ code: 'E_RUNTIME_OPTION' }),
    );
    const { bytes } = tinyModel(2, 2, 2);
    await expect(platform.createSession(bytes, { intraOpThreads: 1.5 })).rejects.toMatchObject({
      code: 'E_RUNTIME_OPTION',
    });
  });
});

describe('package entry', () => {
  it('hands out the models package disk folder reader', async () => {
    const entry = await import('../src/index.ts');
    const models = await import('@shortv/models/node');
    expect(entry.nodeModelFolder).toBe(models.nodeModelFolder);
  });
});
