import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '@shortv/tensor';
import * as ort from 'onnxruntime-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DataLocation,
  decodeModel,
  encodeModel,
  externalDataRef,
  GraphBuilder,
  MAX_PROTOBUF_BYTES,
  type ModelProto,
} from '../src/index.ts';
import { writeModelFiles } from '../src/node.ts';
import { matmul, maxAbsDiff, seededValues } from './reference.ts';

const [K, N] = [512, 640]; // 1.25 MiB of weights: over the 1 MiB mark that gets 64 KiB alignment
const weight = seededValues(K * N, 21);
const bias = seededValues(N, 22);

function linearModel(): ModelProto {
  const g = new GraphBuilder('linear');
  const x = g.input('x', 'float32', ['batch', K]);
  const w = g.initializer('proj.weight', new Tensor('float32', weight, [K, N]));
  const b = g.initializer('proj.bias', new Tensor('float32', bias, [N]));
  const small = g.initializer('scale', new Tensor('float32', Float32Array.of(0.5), [1]));
  const y = g.op.Mul(g.op.Add(g.op.MatMul(x, w), b), small);
  g.output('y', 'float32', ['batch', N], { from: y });
  return g.toModel();
}

describe('external data', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'onnx-ext-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('moves large initializers out, aligned, and keeps small ones inline', () => {
    const encoded = encodeModel(linearModel(), {
      externalData: { location: 'linear.onnx.data', threshold: 1024 },
    });
    const decoded = decodeModel(encoded.bytes);
    const inits = Object.fromEntries(decoded.graph!.initializer!.map((t) => [t.name, t]));

    expect(inits.scale!.dataLocation ?? DataLocation.DEFAULT).toBe(DataLocation.DEFAULT);
    expect(inits.scale!.rawData!.byteLength).toBe(4);
    const w = externalDataRef(inits['proj.weight']!);
    const b = externalDataRef(inits['proj.bias']!);
    expect(inits['proj.weight']!.rawData).toBeUndefined();
    expect(w).toEqual({ location: 'linear.onnx.data', offset: 0, length: K * N * 4 });
    expect(b!.offset % 64).toBe(0);
    expect(b!.offset).toBeGreaterThanOrEqual(K * N * 4);
    expect(encoded.externalData!.byteLength).toBe(b!.offset + N * 4);
    expect(encoded.bytes.byteLength).toBeLessThan(4096);
  });

  it('loads from a path in onnxruntime-node and computes what the inline model computes', async () => {
    const model = linearModel();
    const encoded = encodeModel(model, { externalData: { location: 'linear.onnx.data' } });
    const path = await writeModelFiles(dir, 'linear.onnx', encoded);
    expect((await stat(join(dir, 'linear.onnx.data'))).size).toBe(encoded.externalData!.byteLength);

    const batch = 2;
    const x = seededValues(batch * K, 23);
    const session = await ort.InferenceSession.create(path);
    const out = await session.run({ x: new ort.Tensor('float32', x, [batch, K]) });
    await session.release();

    const expected = matmul(x, weight, batch, K, N).map((v, i) => (v + bias[i % N]!) * 0.5);
    expect(out.y!.dims).toEqual([batch, N]);
    expect(maxAbsDiff(out.y!.data as Float32Array, expected)).toBeLessThan(1e-4);
    // The file on disk decodes to the same graph with references into the data file.
    const reread = decodeModel(new Uint8Array(await readFile(path)));
    expect(reread.graph!.node!.map((n) => n.opType)).toEqual(model.graph!.node!.map((n) => n.opType));
  });

  it('refuses locations outside the model directory', () => {
    for (const location of ['../weights.data', '/tmp/weights.data', '']) {
      expect(() => encodeModel(linearModel(), { externalData: { location } })).toThrow(
        expect.objectContaining({ code: 'E_ONNX_EXTERNAL_DATA' }),
      );
    }
  });

  it('refuses over 2 GB of inline weights with the fix in the message, and externalizes them without copying', () => {
    // 33 views of one 64 MiB buffer: more than 2 GB of initializers while allocating only 64 MiB.
    const shared = new Uint8Array(64 * 1024 * 1024);
    const g = new GraphBuilder('huge');
    const names = Array.from({ length: 33 }, (_, i) =>
      g.initializer(`w${i}`, Tensor.fromBytes('uint8', shared, [shared.byteLength])),
    );
    g.output(names[0]!, 'uint8', [shared.byteLength]);
    const model = g.toModel();

    let error: unknown;
    try {
      encodeModel(model);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'E_ONNX_TOO_LARGE' });
    expect((error as Error).message).toContain('externalData');

    const encoded = encodeModel(model, { externalData: { location: 'huge.onnx.data' } });
    expect(encoded.externalData!.byteLength).toBeGreaterThan(MAX_PROTOBUF_BYTES);
    expect(encoded.externalData!.chunks.filter((c) => c.buffer === shared.buffer)).toHaveLength(33);
    expect(encoded.bytes.byteLength).toBeLessThan(64 * 1024);
  });
});
