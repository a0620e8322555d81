import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bytesSource,
  type DType,
  openSafetensors,
  ShortvError,
  Tensor,
  writeSafetensors,
} from '../src/index.ts';
import { craft } from './safetensors-helpers.ts';

const DTYPES: DType[] = ['float32', 'float16', 'bfloat16', 'int64', 'int32', 'int8', 'uint8', 'bool'];
const WIDTH: Record<DType, number> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int8: 1,
  uint8: 1,
  bool: 1,
};
const NAMES = ['a', 'b', 'w.0', '0', '10', '__proto__', 'constructor', 'é', '', 'x"y', 'layer\\1'];
const DTYPE_WORDS = [
  'F32',
  'F16',
  'BF16',
  'I64',
  'I32',
  'I8',
  'U8',
  'BOOL',
  'F64',
  'U16',
  'F8_E4M3',
  'f32',
  'X',
  '',
];
const NUMBER_WORDS = [
  '0',
  '1',
  '2',
  '7',
  '8',
  '-1',
  '1.5',
  '1e3',
  '1e400',
  '4294967296',
  '9007199254740993',
  '99999999',
];
const CHARS = ['{', '}', '[', ']', '"', ',', ':', '\\', ' ', '9', '-', 'a', '\u0000', '\u00e9', '\ud800'];

const tensorArb = fc
  .record({
    dtype: fc.constantFrom(...DTYPES),
    dims: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
  })
  .chain(({ dtype, dims }) => {
    const bytes = dims.reduce((n, d) => n * d, 1) * WIDTH[dtype];
    return fc
      .uint8Array({ minLength: bytes, maxLength: bytes })
      .map((data) => Tensor.fromBytes(dtype, data, dims));
  });

const validFileArb = fc
  .record({
    tensors: fc.uniqueArray(fc.tuple(fc.constantFrom(...NAMES), tensorArb), {
      maxLength: 4,
      selector: ([name]) => name,
    }),
    metadata: fc.option(
      fc.dictionary(fc.constantFrom('format', 'k', ''), fc.string({ maxLength: 4 }), { maxKeys: 2 }),
    ),
  })
  .map(({ tensors, metadata }) => writeSafetensors(new Map(tensors), metadata ?? undefined));

/** The low word of the length prefix, or 0 when a mutation has cut the file shorter than it. */
function lengthField(bytes: Uint8Array): number {
  return bytes.length < 8 ? 0 : new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
}

function headerText(bytes: Uint8Array): { text: string; data: Uint8Array } {
  const length = Math.max(0, Math.min(lengthField(bytes), bytes.length - 8));
  return { text: new TextDecoder().decode(bytes.subarray(8, 8 + length)), data: bytes.subarray(8 + length) };
}

/** Replaces the `pick`-th match of `pattern` in `text` with `by` (no-op without matches). */
function replaceNth(text: string, pattern: RegExp, pick: number, by: string): string {
  const matches = [...text.matchAll(pattern)];
  if (matches.length === 0) return text;
  const m = matches[pick % matches.length]!;
  return text.slice(0, m.index) + by + text.slice(m.index! + m[0].length);
}

type Mutation = (file: Uint8Array) => Uint8Array;

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  // Random bytes anywhere, or only inside the length prefix and header.
  fc
    .array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })
    .map((edits) => (f: Uint8Array) => {
      const out = f.slice();
      if (out.length > 0) for (const [at, v] of edits) out[at % out.length] = v;
      return out;
    }),
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, v]) => (f: Uint8Array) => {
    const out = f.slice();
    const headerEnd = Math.min(out.length, 8 + lengthField(out));
    if (headerEnd > 0) out[at % headerEnd] = v;
    return out;
  }),
  // A wrong header length: small shifts, arbitrary 32-bit values, or high bits set.
  fc
    .oneof(
      fc.integer({ min: -24, max: 24 }).map((d) => ({ delta: d, low: -1, high: 0 })),
      fc.tuple(fc.nat(), fc.nat()).map(([low, high]) => ({ delta: 0, low, high: high % 3 === 0 ? high : 0 })),
    )
    .map(({ delta, low, high }) => (f: Uint8Array) => {
      if (f.length < 8) return f;
      const out = f.slice();
      const view = new DataView(out.buffer);
      const next = low >= 0 ? low : Math.max(0, view.getUint32(0, true) + delta);
      view.setUint32(0, next >>> 0, true);
      view.setUint32(4, high >>> 0, true);
      return out;
    }),
  // Truncation and trailing garbage.
  fc.nat().map((cut) => (f: Uint8Array) => f.slice(0, cut % (f.length + 1))),
  fc.uint8Array({ minLength: 1, maxLength: 9 }).map((extra) => (f: Uint8Array) => {
    const out = new Uint8Array(f.length + extra.length);
    out.set(f);
    out.set(extra, f.length);
    return out;
  }),
  // Edits of the header text, re-framed with a matching length so they reach the JSON checks.
  fc
    .record({
      kind: fc.constantFrom('dtype', 'number', 'duplicate', 'delete', 'insert'),
      pick: fc.nat(),
      word: fc.nat(),
      span: fc.integer({ min: 1, max: 6 }),
    })
    .map(({ kind, pick, word, span }) => (f: Uint8Array) => {
      const { text, data } = headerText(f);
      let next = text;
      if (kind === 'dtype')
        next = replaceNth(
          text,
          /"dtype":"[^"]*"/g,
          pick,
          `"dtype":"${DTYPE_WORDS[word % DTYPE_WORDS.length]}"`,
        );
      if (kind === 'number')
        next = replaceNth(text, /-?\d+/g, pick, NUMBER_WORDS[word % NUMBER_WORDS.length]!);
      if (kind === 'duplicate') {
        const entry = [...text.matchAll(/("(?:[^"\\]|\\.)*"):\{[^{}]*\}/g)][pick % 8];
        if (entry)
          next = `${text.slice(0, entry.index! + entry[0].length)},${entry[0]}${text.slice(entry.index! + entry[0].length)}`;
      }
      if (kind === 'delete') {
        const at = pick % Math.max(1, text.length);
        next = text.slice(0, at) + text.slice(at + span);
      }
      if (kind === 'insert') {
        const at = pick % (text.length + 1);
        next = text.slice(0, at) + CHARS[word % CHARS.length] + text.slice(at);
      }
      return craft(next, data);
    }),
);

const fileArb = fc.oneof(
  { weight: 1, arbitrary: validFileArb },
  {
    weight: 6,
    arbitrary: fc
      .tuple(validFileArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }))
      .map(([f, ms]) => ms.reduce((acc, m) => m(acc), f)),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.string({ maxLength: 40 }), fc.uint8Array({ maxLength: 16 }))
      .map(([text, data]) => craft(text, data)),
  },
);

const sameBytes = (a: Tensor, b: Tensor) => Buffer.from(a.bytes()).equals(Buffer.from(b.bytes()));

/**
 * Either a ShortvError with an E_SAFETENSORS_* code, or a parse that is right: every tensor reads,
 * holds exactly its byte range of the file, and writing the result out and reading it back gives
 * the same names, dtypes, shapes, bytes and metadata. Returns the outcome for the tally.
 */
async function checkFile(bytes: Uint8Array): Promise<string> {
  let st: Awaited<ReturnType<typeof openSafetensors>>;
  try {
    st = await openSafetensors(bytesSource(bytes));
  } catch (error) {
    if (!(error instanceof ShortvError) || !error.code.startsWith('E_SAFETENSORS_')) throw error;
    return error.code;
  }
  const dataStart = 8 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  const tensors = new Map<string, Tensor>();
  let covered = 0;
  for (const name of st.names) {
    const info = st.info(name);
    const t = await st.read(name);
    expect(t.dtype).toBe(info.dtype);
    expect(t.dims).toEqual(info.shape);
    expect(
      Buffer.from(t.bytes()).equals(
        Buffer.from(bytes.subarray(dataStart + info.begin, dataStart + info.end)),
      ),
    ).toBe(true);
    covered += info.end - info.begin;
    tensors.set(name, t);
  }
  expect(covered).toBe(bytes.length - dataStart);
  const again = await openSafetensors(bytesSource(writeSafetensors(tensors, st.metadata)));
  expect([...again.names].sort()).toEqual([...st.names].sort());
  expect(again.metadata).toEqual(st.metadata);
  for (const [name, t] of tensors) {
    const back = await again.read(name);
    expect(back.dtype).toBe(t.dtype);
    expect(back.dims).toEqual(t.dims);
    expect(sameBytes(back, t)).toBe(true);
  }
  return 'ok';
}

describe('safetensors reader under fuzzing', () => {
  it('10,000 random and mutated files: a typed error or a correct parse, never anything else', async () => {
    const tally = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fileArb, async (bytes) => {
        const outcome = await checkFile(bytes);
        tally.set(outcome, (tally.get(outcome) ?? 0) + 1);
      }),
      { numRuns: 10_000, seed: 0x5afe7e45 },
    );
    const total = [...tally.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(10_000);
    // The generators must reach both sides and the distinct checks, or the test proves little.
    expect(tally.get('ok') ?? 0).toBeGreaterThan(500);
    for (const code of [
      'E_SAFETENSORS_TRUNCATED',
      'E_SAFETENSORS_HEADER_LENGTH',
      'E_SAFETENSORS_HEADER_JSON',
      'E_SAFETENSORS_HEADER',
      'E_SAFETENSORS_OFFSETS',
      'E_SAFETENSORS_DTYPE',
      'E_SAFETENSORS_SHAPE',
      'E_SAFETENSORS_DUPLICATE',
    ]) {
      expect(tally.get(code) ?? 0, code).toBeGreaterThan(0);
    }
  });
});
