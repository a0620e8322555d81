import { Tensor } from '@shortv/tensor';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../src/index.ts';
import { runOnBackends } from '../src/testing.ts';
import { maxAbsDiff, seededValues } from './reference.ts';

/** Rotates each head of x [seq, heads*dim] by position (half-split layout, as Llama does). */
function rotate(
  x: Float32Array,
  positions: readonly number[],
  heads: number,
  dim: number,
  base: number,
): Float32Array {
  const out = new Float32Array(x.length);
  const half = dim / 2;
  positions.forEach((pos, s) => {
    for (let h = 0; h < heads; h++) {
      const at = s * heads * dim + h * dim;
      for (let i = 0; i < half; i++) {
        const angle = pos / base ** ((2 * i) / dim);
        const [a, b] = [x[at + i]!, x[at + half + i]!];
        out[at + i] = a * Math.cos(angle) - b * Math.sin(angle);
        out[at + half + i] = b * Math.cos(angle) + a * Math.sin(angle);
      }
    }
  });
  return out;
}

function rotaryCaches(maxPos: number, dim: number, base: number): [Float32Array, Float32Array] {
  const half = dim / 2;
  const cos = new Float32Array(maxPos * half);
  const sin = new Float32Array(maxPos * half);
  for (let p = 0; p < maxPos; p++) {
    for (let i = 0; i < half; i++) {
      cos[p * half + i] = Math.cos(p / base ** ((2 * i) / dim));
      sin[p * half + i] = Math.sin(p / base ** ((2 * i) / dim));
    }
  }
  return [cos, sin];
}

/** Attention with grouped KV heads; q [seq, heads*dim], k/v [seq, kvHeads*dim]. */
function attention(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  [seq, heads, kvHeads, dim]: readonly [number, number, number, number],
  causal: boolean,
) {
  const out = new Float64Array(seq * heads * dim);
  for (let h = 0; h < heads; h++) {
    const kv = Math.floor(h / (heads / kvHeads));
    for (let i = 0; i < seq; i++) {
      const visible = causal ? i + 1 : seq;
      const scores = Array.from({ length: visible }, (_, j) => {
        let dot = 0;
        for (let d = 0; d < dim; d++)
          dot += q[i * heads * dim + h * dim + d]! * k[j * kvHeads * dim + kv * dim + d]!;
        return dot / Math.sqrt(dim);
      });
      const max = Math.max(...scores);
      const weights = scores.map((s) => Math.exp(s - max));
      const total = weights.reduce((a, b) => a + b, 0);
      for (let d = 0; d < dim; d++) {
        let acc = 0;
        for (let j = 0; j < visible; j++) acc += (weights[j]! / total) * v[j * kvHeads * dim + kv * dim + d]!;
        out[i * heads * dim + h * dim + d] = acc;
      }
    }
  }
  return out;
}

describe('contrib attention ops on both backends', () => {
  it('RotaryEmbedding matches a half-split rotation', async () => {
    const [seq, heads, dim, base] = [3, 2, 4, 10000];
    const [cos, sin] = rotaryCaches(8, dim, base);
    const x = seededValues(seq * heads * dim, 51);
    const positions = [2, 3, 4];
    const g = new GraphBuilder('rope');
    const input = g.input('x', 'float32', [1, 'seq', heads * dim]);
    const ids = g.input('position_ids', 'int64', [1, 'seq']);
    const rotated = g.op.RotaryEmbedding(
      input,
      ids,
      g.initializer('cos_cache', new Tensor('float32', cos, [8, dim / 2])),
      g.initializer('sin_cache', new Tensor('float32', sin, [8, dim / 2])),
      { num_heads: heads },
    );
    g.output('y', 'float32', [1, 'seq', heads * dim], { from: rotated });

    const results = await runOnBackends(g.toModel(), {
      x: new Tensor('float32', x, [1, seq, heads * dim]),
      position_ids: new Tensor('int64', BigInt64Array.from(positions.map(BigInt)), [1, seq]),
    });
    const expected = rotate(x, positions, heads, dim, base);
    for (const out of [results.node!, results.wasm!]) {
      expect(maxAbsDiff(out.y!.data as Float32Array, expected)).toBeLessThan(1e-5);
    }
  });

  it('GroupQueryAttention on an empty cache matches causal grouped attention and returns the cache', async () => {
    // onnxruntime's CPU kernel requires head_size to be a multiple of 8.
    const [seq, heads, kvHeads, dim] = [3, 4, 2, 8];
    const q = seededValues(seq * heads * dim, 61);
    const k = seededValues(seq * kvHeads * dim, 62);
    const v = seededValues(seq * kvHeads * dim, 63);
    const g = new GraphBuilder('gqa');
    const inputs = {
      query: g.input('q', 'float32', [1, 'seq', heads * dim]),
      key: g.input('k', 'float32', [1, 'seq', kvHeads * dim]),
      value: g.input('v', 'float32', [1, 'seq', kvHeads * dim]),
      pastKey: g.input('past_key', 'float32', [1, kvHeads, 'past', dim]),
      pastValue: g.input('past_value', 'float32', [1, kvHeads, 'past', dim]),
      seqlensK: g.input('seqlens_k', 'int32', [1]),
      totalSequenceLength: g.input('total_sequence_length', 'int32', []),
    };
    const [attn, presentKey] = g.op.GroupQueryAttention(inputs, { num_heads: heads, kv_num_heads: kvHeads });
    g.output('attn', 'float32', [1, 'seq', heads * dim], { from: attn! });
    g.output('present_key', 'float32', [1, kvHeads, 'total', dim], { from: presentKey! });

    const empty = new Tensor('float32', new Float32Array(0), [1, kvHeads, 0, dim]);
    const results = await runOnBackends(
      g.toModel(),
      {
        q: new Tensor('float32', q, [1, seq, heads * dim]),
        k: new Tensor('float32', k, [1, seq, kvHeads * dim]),
        v: new Tensor('float32', v, [1, seq, kvHeads * dim]),
        past_key: empty,
        past_value: empty,
        seqlens_k: new Tensor('int32', Int32Array.of(seq - 1), [1]),
        total_sequence_length: new Tensor('int32', Int32Array.of(seq), []),
      },
      { outputs: ['attn', 'present_key'] },
    );
    const expected = attention(q, k, v, [seq, heads, kvHeads, dim], true);
    // present_key is [batch, kv_heads, seq, dim]: the key input with heads moved in front of positions.
    const keyByHead = Float32Array.from({ length: k.length }, (_, i) => {
      const [h, s, d] = [Math.floor(i / (seq * dim)), Math.floor(i / dim) % seq, i % dim];
      return k[s * kvHeads * dim + h * dim + d]!;
    });
    for (const out of [results.node!, results.wasm!]) {
      expect(maxAbsDiff(out.attn!.data as Float32Array, expected)).toBeLessThan(1e-5);
      expect(out.present_key!.dims).toEqual([1, kvHeads, seq, dim]);
      expect(Array.from(out.present_key!.data as Float32Array)).toEqual(Array.from(keyByHead));
    }
  });

  it('MultiHeadAttention without masks matches full attention', async () => {
    const [seq, heads, dim] = [3, 2, 8];
    const [q, k, v] = [71, 72, 73].map((seed) => seededValues(seq * heads * dim, seed));
    const g = new GraphBuilder('mha');
    const hidden = heads * dim;
    const [out] = g.op.MultiHeadAttention(
      {
        query: g.input('q', 'float32', [1, 'seq', hidden]),
        key: g.input('k', 'float32', [1, 'seq', hidden]),
        value: g.input('v', 'float32', [1, 'seq', hidden]),
      },
      { num_heads: heads },
      { outputs: 1 },
    );
    g.output('attn', 'float32', [1, 'seq', hidden], { from: out! });
    const shape = [1, seq, hidden];
    const feeds = {
      q: new Tensor('float32', q!, shape),
      k: new Tensor('float32', k!, shape),
      v: new Tensor('float32', v!, shape),
    };
    const results = await runOnBackends(g.toModel(), feeds);
    const expected = attention(q!, k!, v!, [seq, heads, heads, dim], false);
    expect(maxAbsDiff(results.node!.attn!.data as Float32Array, expected)).toBeLessThan(1e-5);
    expect(maxAbsDiff(results.wasm!.attn!.data as Float32Array, expected)).toBeLessThan(1e-5);
  });
});
