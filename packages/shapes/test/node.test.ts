import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FAMILIES, generateSamplePng, shapesVocabulary } from '../src/index.ts';
import { readShapesDataset, readShapesImage, writeShapesDataset } from '../src/node/index.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'shapes-test-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function filesOf(dir: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    if (name === 'images') continue;
    out[name] = readFileSync(join(dir, name));
  }
  return out;
}

describe('writeShapesDataset', () => {
  it('writes images, scenes, questions and manifest that read back', async () => {
    const dir = tempDir();
    const progress: number[] = [];
    const result = await writeShapesDataset({
      outDir: dir,
      count: 12,
      seed: 5,
      split: 'calibration',
      onProgress: (done, total) => {
        expect(total).toBe(12);
        progress.push(done);
      },
    });
    expect(progress).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(result.images).toBe(12);
    expect(Object.values(result.families).reduce((a, b) => a + b, 0)).toBe(result.questions);
    expect(readdirSync(dir).sort()).toEqual(['data.jsonl', 'images', 'manifest.json', 'scenes.jsonl']);
    expect(readdirSync(join(dir, 'images'))).toHaveLength(12);

    const ds = readShapesDataset(dir);
    expect(ds.manifest).toMatchObject({
      format: 'shortv.shapes',
      version: 1,
      split: 'calibration',
      seed: 5,
      count: 12,
      size: 72,
      questions: result.questions,
    });
    expect(ds.manifest.families).toEqual([...FAMILIES]);
    expect(ds.manifest.vocabulary).toEqual(shapesVocabulary());
    expect(ds.scenes.map((s) => s.id)).toEqual(
      Array.from({ length: 12 }, (_, i) => `calibration-5-${String(i).padStart(6, '0')}`),
    );
    expect(ds.questions).toHaveLength(result.questions);
    for (const family of FAMILIES) {
      expect(ds.questions.filter((q) => q.family === family)).toHaveLength(result.families[family]);
    }

    const first = ds.scenes[0];
    if (!first) throw new Error('no scenes');
    const sample = generateSamplePng({ split: 'calibration', seed: 5, index: 0 });
    expect(first).toEqual(sample.scene);
    expect(Buffer.from(readFileSync(join(dir, first.image))).equals(Buffer.from(sample.png))).toBe(true);
    expect(readShapesImage(dir, first).data).toEqual(sample.image.data);
    expect(ds.questions.filter((q) => q.imageId === first.id)).toEqual(sample.questions);
  });

  it('writes byte-identical files for the same arguments', async () => {
    const a = tempDir();
    const b = tempDir();
    await writeShapesDataset({ outDir: a, count: 6, seed: 2 });
    await writeShapesDataset({ outDir: b, count: 6, seed: 2 });
    expect(filesOf(a)).toEqual(filesOf(b));
  });

  it('refuses a non-empty directory unless forced, then replaces its dataset', async () => {
    const dir = tempDir();
    await writeShapesDataset({ outDir: dir, count: 5, seed: 1 });
    await expect(writeShapesDataset({ outDir: dir, count: 3, seed: 1 })).rejects.toMatchObject({
      code: 'E_DATA_OUT_NOT_EMPTY',
    });
    writeFileSync(join(dir, 'notes.txt'), 'keep me');
    await writeShapesDataset({ outDir: dir, count: 3, seed: 9, split: 'test', force: true });
    expect(readdirSync(join(dir, 'images')).sort()).toEqual([
      'test-9-000000.png',
      'test-9-000001.png',
      'test-9-000002.png',
    ]);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('keep me');
    expect(readShapesDataset(dir).manifest.count).toBe(3);
  });

  it('refuses an output path under a regular file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), 'x');
    await expect(
      writeShapesDataset({ outDir: join(dir, 'file', 'sub'), count: 1, seed: 0 }),
    ).rejects.toMatchObject({
      code: 'E_DATA_OUT_UNWRITABLE',
    });
    await expect(writeShapesDataset({ outDir: join(dir, 'file'), count: 1, seed: 0 })).rejects.toMatchObject({
      code: 'E_DATA_OUT_NOT_DIR',
    });
  });

  it('rejects a bad count before touching the disk', async () => {
    const dir = join(tempDir(), 'never');
    for (const count of [0, -1, 2.5]) {
      await expect(writeShapesDataset({ outDir: dir, count, seed: 0 })).rejects.toMatchObject({
        code: 'E_INPUT_COUNT',
      });
    }
    expect(() => readdirSync(dir)).toThrow();
  });

  it('leaves no partial file when generation fails midway', async () => {
    const dir = tempDir();
    await expect(
      writeShapesDataset({
        outDir: dir,
        count: 10,
        seed: 0,
        onProgress: (done) => {
          if (done === 4) throw new Error('interrupted');
        },
      }),
    ).rejects.toThrow('interrupted');
    expect(readdirSync(dir)).toEqual(['images']);
    const images = readdirSync(join(dir, 'images'));
    expect(images).toHaveLength(4);
    for (const name of images) expect(name).toMatch(/\.png$/);
    expect(() => readShapesDataset(dir)).toThrow(expect.objectContaining({ code: 'E_DATA_MISSING' }));
  });
});

describe('readShapesDataset', () => {
  async function written(): Promise<string> {
    const dir = tempDir();
    await writeShapesDataset({ outDir: dir, count: 4, seed: 3 });
    return dir;
  }

  function editLine(path: string, line: number, edit: (text: string) => string): void {
    const lines = readFileSync(path, 'utf8').split('\n');
    lines[line - 1] = edit(lines[line - 1] as string);
    writeFileSync(path, lines.join('\n'));
  }

  it('names the file and line of invalid JSON', async () => {
    const dir = await written();
    editLine(join(dir, 'data.jsonl'), 3, (t) => t.slice(0, 20));
    expect(() => readShapesDataset(dir)).toThrow(
      expect.objectContaining({ code: 'E_DATA_JSON', message: expect.stringContaining('data.jsonl:3:') }),
    );
  });

  it('names the field that is out of range', async () => {
    const dir = await written();
    editLine(join(dir, 'scenes.jsonl'), 2, (t) => t.replace(/"color":"\w+"/, '"color":"pink"'));
    expect(() => readShapesDataset(dir)).toThrow(
      expect.objectContaining({
        code: 'E_DATA_RECORD',
        message: expect.stringMatching(/scenes\.jsonl:2 objects\[0\]: "color" must be one of/),
      }),
    );
  });

  it('rejects two objects in one cell', async () => {
    const dir = await written();
    editLine(join(dir, 'scenes.jsonl'), 1, (t) => {
      const scene = JSON.parse(t);
      scene.objects = [scene.objects[0], { ...scene.objects[0] }];
      return JSON.stringify(scene);
    });
    expect(() => readShapesDataset(dir)).toThrow(
      expect.objectContaining({ message: expect.stringContaining('share the cell') }),
    );
  });

  it('rejects a question about an unknown image', async () => {
    const dir = await written();
    editLine(join(dir, 'data.jsonl'), 1, (t) => t.replace(/"imageId":"[^"]+"/, '"imageId":"train-3-999999"'));
    expect(() => readShapesDataset(dir)).toThrow(
      expect.objectContaining({ code: 'E_DATA_RECORD', message: expect.stringContaining('data.jsonl:1') }),
    );
  });

  it('rejects a manifest whose counts disagree with the files', async () => {
    const dir = await written();
    const manifestPath = join(dir, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    writeFileSync(manifestPath, JSON.stringify({ ...manifest, count: 5 }));
    expect(() => readShapesDataset(dir)).toThrow(expect.objectContaining({ code: 'E_DATA_COUNT' }));
    writeFileSync(manifestPath, JSON.stringify({ ...manifest, version: 2 }));
    expect(() => readShapesDataset(dir)).toThrow(
      expect.objectContaining({ code: 'E_DATA_MANIFEST', message: expect.stringContaining('manifest.json') }),
    );
  });

  it('reports a missing image', async () => {
    const dir = await written();
    rmSync(join(dir, 'images', 'train-3-000002.png'));
    expect(() => readShapesDataset(dir)).toThrow(
      expect.objectContaining({ code: 'E_DATA_MISSING', message: expect.stringContaining('scenes.jsonl:3') }),
    );
    expect(readShapesDataset(dir, { checkImages: false }).scenes).toHaveLength(4);
  });

  it('reports a folder that is not a dataset', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'images'));
    expect(() => readShapesDataset(dir)).toThrow(
      expect.objectContaining({ code: 'E_DATA_MISSING', message: expect.stringContaining('manifest.json') }),
    );
  });
});
