import { describe, expect, it } from 'vitest';
import { bytesSource, openSafetensors, Tensor, writeSafetensors } from '../src/index.ts';
import { countingSource, craft, f32Bytes, values } from './safetensors-helpers.ts';

const open = (bytes: Uint8Array) => openSafetensors(bytesSource(bytes));

async function rejectsWith(bytes: Uint8Array, code: string, message?: RegExp): Promise<void> {
  const error = await open(bytes).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toMatchObject({ name: 'ShortvError', code });
  if (message) expect((error as Error).message).toMatch(message);
}

describe('safetensors reader', () => {
  it('reads a hand-made file', async () => {
    const file = craft(
      '{"__metadata__":{"format":"pt"},"b":{"dtype":"I8","shape":[3],"data_offsets":[8,11]},' +
        '"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}',
      [...f32Bytes([1.5, -2]), 0xff, 0x01, 0x80],
    );
    const st = await open(file);
    expect(st.names).toEqual(['a', 'b']); // data order
    expect(st.metadata).toEqual({ format: 'pt' });
    expect(st.info('a')).toEqual({ name: 'a', dtype: 'float32', shape: [2], begin: 0, end: 8 });
    const a = await st.read('a');
    expect(a.dtype).toBe('float32');
    expect(values(a)).toEqual([1.5, -2]);
    expect(values(await st.read('b'))).toEqual([-1, 1, -128]);
    await expect(st.read('c')).rejects.toMatchObject({ code: 'E_SAFETENSORS_NOT_FOUND' });
  });

  it('reads only the header on open and only the asked-for tensor on read', async () => {
    const bytes = writeSafetensors({
      big: Tensor.zeros('float32', [1000]),
      small: new Tensor('int32', new Int32Array([7]), [1]),
    });
    const source = countingSource(bytes);
    const st = await openSafetensors(source);
    const headerEnd = 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(source.reads).toEqual([
      [0, 8],
      [8, headerEnd - 8],
    ]);
    const small = await st.read('small');
    expect(values(small)).toEqual([7]);
    expect(source.reads.slice(2)).toEqual([[headerEnd + st.info('small').begin, 4]]);
  });

  it('accepts zero-element tensors and names like __proto__', async () => {
    const file = craft(
      '{"__proto__":{"dtype":"F16","shape":[0,4],"data_offsets":[0,0]},"x":{"dtype":"U8","shape":[],"data_offsets":[0,1]}}',
      [42],
    );
    const st = await open(file);
    expect(st.names).toEqual(['__proto__', 'x']);
    expect((await st.read('__proto__')).dims).toEqual([0, 4]);
    expect(values(await st.read('x'))).toEqual([42]);
  });

  it('refuses files too short for the length prefix', async () => {
    await rejectsWith(new Uint8Array(5), 'E_SAFETENSORS_TRUNCATED');
  });

  it('refuses a header length beyond the file', async () => {
    await rejectsWith(craft('{}', [], 1000), 'E_SAFETENSORS_HEADER_LENGTH', /beyond the end/);
    const huge = craft('{}');
    new DataView(huge.buffer).setUint32(4, 0xffffffff, true);
    await rejectsWith(huge, 'E_SAFETENSORS_HEADER_LENGTH');
  });

  it('refuses a header that is not JSON, not UTF-8 or not an object', async () => {
    await rejectsWith(craft('{"a": '), 'E_SAFETENSORS_HEADER_JSON', /not valid JSON/);
    await rejectsWith(craft("{'a': 1}"), 'E_SAFETENSORS_HEADER_JSON');
    await rejectsWith(craft('{} x'), 'E_SAFETENSORS_HEADER_JSON', /trailing/);
    const badUtf8 = craft('{"  ":1}');
    badUtf8[10] = 0xff;
    await rejectsWith(badUtf8, 'E_SAFETENSORS_HEADER_JSON', /UTF-8/);
    await rejectsWith(craft('[1, 2]'), 'E_SAFETENSORS_HEADER', /expected a JSON object, got an array/);
    await rejectsWith(craft('"text"'), 'E_SAFETENSORS_HEADER');
    await rejectsWith(craft(`${'['.repeat(100)}${']'.repeat(100)}`), 'E_SAFETENSORS_HEADER_JSON', /nesting/);
  });

  it('refuses malformed entries and metadata', async () => {
    await rejectsWith(craft('{"a":5}'), 'E_SAFETENSORS_HEADER', /'a' is not an object/);
    await rejectsWith(
      craft('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}'),
      'E_SAFETENSORS_HEADER',
      /shape/,
    );
    await rejectsWith(
      craft('{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,0]}}'),
      'E_SAFETENSORS_HEADER',
      /shape/,
    );
    await rejectsWith(
      craft('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}'),
      'E_SAFETENSORS_HEADER',
      /data_offsets/,
    );
    await rejectsWith(craft('{"__metadata__":{"n":1}}'), 'E_SAFETENSORS_HEADER', /__metadata__/);
  });

  it('refuses unknown and unsupported dtypes, naming them', async () => {
    await rejectsWith(
      craft('{"w":{"dtype":"F99","shape":[1],"data_offsets":[0,4]}}', [0, 0, 0, 0]),
      'E_SAFETENSORS_DTYPE',
      /"F99".*not a safetensors dtype/,
    );
    await rejectsWith(
      craft('{"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}', new Array(8).fill(0)),
      'E_SAFETENSORS_DTYPE',
      /"F64".*not supported/,
    );
  });

  it('refuses a shape that disagrees with the byte length', async () => {
    await rejectsWith(
      craft('{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', new Array(8).fill(0)),
      'E_SAFETENSORS_SHAPE',
      /needs 12 bytes.*hold 8/,
    );
  });

  it('refuses offsets out of range, with gaps, overlapping, or leaving bytes unclaimed', async () => {
    const entry = (name: string, begin: number, end: number) =>
      `"${name}":{"dtype":"U8","shape":[${end - begin}],"data_offsets":[${begin},${end}]}`;
    await rejectsWith(craft(`{${entry('a', 0, 4)}}`, [1, 2]), 'E_SAFETENSORS_OFFSETS', /only 2 bytes/);
    await rejectsWith(
      craft(`{${entry('a', 0, 2)},${entry('b', 3, 4)}}`, [1, 2, 3, 4]),
      'E_SAFETENSORS_OFFSETS',
      /2\.\.3 belong to no tensor/,
    );
    await rejectsWith(
      craft(`{${entry('a', 0, 3)},${entry('b', 2, 4)}}`, [1, 2, 3, 4]),
      'E_SAFETENSORS_OFFSETS',
      /'b'.*overlaps.*'a'/,
    );
    await rejectsWith(
      craft(`{${entry('a', 0, 2)}}`, [1, 2, 3]),
      'E_SAFETENSORS_OFFSETS',
      /2\.\.3 at the end/,
    );
    await rejectsWith(
      craft('{"a":{"dtype":"U8","shape":[0],"data_offsets":[2,1]}}', [1, 2]),
      'E_SAFETENSORS_OFFSETS',
      /begin after end/,
    );
  });

  it('refuses duplicate tensor names and duplicate keys inside an entry', async () => {
    const a = '"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}';
    await rejectsWith(craft(`{${a},${a}}`, [1]), 'E_SAFETENSORS_DUPLICATE', /"a" twice/);
    await rejectsWith(
      craft('{"a":{"dtype":"U8","dtype":"I8","shape":[1],"data_offsets":[0,1]}}', [1]),
      'E_SAFETENSORS_DUPLICATE',
      /"dtype" twice in a/,
    );
  });

  it('refuses a source that returns fewer bytes than asked', async () => {
    const bytes = writeSafetensors({ a: Tensor.zeros('float32', [4]) });
    const short = {
      size: bytes.length,
      read: async (o: number, l: number) => bytes.slice(o, o + Math.min(l, 8)),
    };
    await expect(openSafetensors(short)).rejects.toMatchObject({ code: 'E_SAFETENSORS_READ' });
  });
});

describe('safetensors writer', () => {
  const all = {
    f32: new Tensor('float32', new Float32Array([1, -2.5, 3e38]), [3]),
    f16: new Tensor('float16', new Uint16Array([0x3c00, 0x7c00]), [2, 1]),
    bf16: new Tensor('bfloat16', new Uint16Array([0x3f80]), [1]),
    i64: new Tensor('int64', new BigInt64Array([-(2n ** 62n), 5n]), [2]),
    i32: new Tensor('int32', new Int32Array([-7, 8, 9, 10]), [2, 2]),
    i8: new Tensor('int8', new Int8Array([-128, 127, 0]), [3]),
    u8: new Tensor('uint8', new Uint8Array([255]), [1, 1, 1]),
    flag: new Tensor('bool', new Uint8Array([1, 0]), [2]),
    empty: Tensor.zeros('float32', [0]),
  };

  it('round-trips every dtype, shape and the metadata', async () => {
    const st = await open(writeSafetensors(all, { format: 'pt', note: 'é"\\' }));
    expect(st.metadata).toEqual({ format: 'pt', note: 'é"\\' });
    expect([...st.names].sort()).toEqual(Object.keys(all).sort());
    for (const [name, t] of Object.entries(all)) {
      const back = await st.read(name);
      expect(back.dtype).toBe(t.dtype);
      expect(back.dims).toEqual(t.dims);
      expect(values(back)).toEqual(values(t));
    }
  });

  it('pads the header to 8 bytes and aligns every tensor for its dtype', async () => {
    const bytes = writeSafetensors(all);
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerLength % 8).toBe(0);
    const st = await open(bytes);
    for (const name of st.names) {
      const { begin, dtype } = st.info(name);
      const width = { float32: 4, float16: 2, bfloat16: 2, int64: 8, int32: 4, int8: 1, uint8: 1, bool: 1 }[
        dtype
      ];
      expect((8 + headerLength + begin) % width).toBe(0);
    }
    // Widest dtype first, then by name.
    expect(st.names).toEqual(['i64', 'empty', 'f32', 'i32', 'bf16', 'f16', 'flag', 'i8', 'u8']);
  });

  it('is deterministic and lists integer-like names in data order', async () => {
    const t = {
      '10': Tensor.zeros('uint8', [1]),
      '9': Tensor.zeros('uint8', [1]),
      b: Tensor.zeros('uint8', [1]),
    };
    const bytes = writeSafetensors(t);
    expect(writeSafetensors(t)).toEqual(bytes);
    expect((await open(bytes)).names).toEqual(['10', '9', 'b']);
  });

  it('refuses the reserved name and non-string metadata', () => {
    expect(() => writeSafetensors({ __metadata__: Tensor.zeros('uint8', [1]) })).toThrow(
      expect.objectContaining({ code: 'E_SAFETENSORS_NAME' }),
    );
    expect(() => writeSafetensors({}, { n: 1 as unknown as string })).toThrow(
      expect.objectContaining({ code: 'E_SAFETENSORS_METADATA' }),
    );
  });
});
