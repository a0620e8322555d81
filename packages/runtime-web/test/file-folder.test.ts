import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODEL_SHAPES_FILES } from '@shortv/model-shapes';
import { modelShapesDir } from '@shortv/model-shapes/node';
import { nodeModelFolder } from '@shortv/models/node';
import { VlmEngine } from '@shortv/runtime-core';
import { describe, expect, it } from 'vitest';
import { fileModelFolder } from '../src/index.ts';

/** A File as a directory picker gives it: named by base name, with the picked folder's path. */
function picked(path: string, bytes: Uint8Array): File {
  const file = new File([bytes as Uint8Array<ArrayBuffer>], path.split('/').at(-1)!);
  Object.defineProperty(file, 'webkitRelativePath', { value: path });
  return file;
}

const bundled = MODEL_SHAPES_FILES.map((name) =>
  picked(`model/${name}`, readFileSync(join(modelShapesDir(), name))),
);

describe('fileModelFolder', () => {
  it('reads picked files as the model folder they came from', async () => {
    const folder = fileModelFolder(bundled);
    expect(folder.location).toBe('picked folder model');
    expect(await folder.list()).toEqual([...MODEL_SHAPES_FILES].sort());
    const fromFiles = await VlmEngine.readFiles(folder);
    const fromDisk = await VlmEngine.readFiles(nodeModelFolder(modelShapesDir()));
    expect(fromFiles.fingerprint).toBe(fromDisk.fingerprint);
    const source = await folder.open('model.safetensors');
    const disk = readFileSync(join(modelShapesDir(), 'model.safetensors'));
    expect(source.size).toBe(disk.byteLength);
    expect(await source.read(1000, 64)).toEqual(new Uint8Array(disk.subarray(1000, 1064)));
  });

  it('prefers the file nearest the top when a name appears twice', async () => {
    const nested = picked('model/old/config.json', new TextEncoder().encode('{"stale": true}'));
    const folder = fileModelFolder([nested, ...bundled]);
    expect(JSON.parse(await folder.readText('config.json')).model_type).toBe('llava');
  });

  it('reports a file that was not picked', async () => {
    const folder = fileModelFolder(bundled.filter((f) => f.name !== 'tokenizer.json'));
    expect(await folder.exists('tokenizer.json')).toBe(false);
    await expect(folder.readText('tokenizer.json')).rejects.toMatchObject({ code: 'E_MODEL_FILE_NOT_FOUND' });
    await expect(VlmEngine.readFiles(folder)).rejects.toThrow(/tokenizer\.json is missing/);
    expect(() => fileModelFolder([])).toThrow(expect.objectContaining({ code: 'E_MODEL_FOLDER_EMPTY' }));
  });
});
