import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { modelShapesDir, modelShapesGoldenPath, modelShapesPackageDir } from '@shortv/model-shapes/node';
import { VlmEngine } from '@shortv/runtime-core';
import { decodeImageFile } from '@shortv/runtime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FileProgress, memoryModelCache, urlModelFolder, webPlatform } from '../src/index.ts';
import { type FolderServer, serveFolder } from './server.ts';

interface GoldenSample {
  id: string;
  image: string;
  question: string;
  greedy_ids: number[];
  greedy_text: string;
}

const golden = JSON.parse(readFileSync(modelShapesGoldenPath(), 'utf8')) as { samples: GoldenSample[] };
const platform = webPlatform({ numThreads: 1 });
let server: FolderServer;

beforeAll(async () => {
  server = await serveFolder(modelShapesDir());
});

afterAll(async () => {
  await server.close();
});

const fileSize = (file: string) => statSync(join(modelShapesDir(), file)).size;

/** Requests made while `action` runs, as file names inside the folder. */
async function requestsDuring(action: () => Promise<unknown>): Promise<string[]> {
  const before = server.requests.length;
  await action();
  return server.requests.slice(before).map((path) => path.replace('/model/', ''));
}

describe('urlModelFolder over HTTP', () => {
  const cache = memoryModelCache();
  const progress: FileProgress[] = [];
  let firstRequests: string[] = [];
  let engine: VlmEngine;

  it('loads the bundled model with progress per file, and answers a golden question as its golden', async () => {
    const folder = urlModelFolder(server.url, { cache, onProgress: (p) => progress.push(p) });
    firstRequests = await requestsDuring(async () => {
      engine = await VlmEngine.load(folder, { platform });
    });
    expect(firstRequests).toContain('model.safetensors');
    expect(firstRequests).toContain('model.safetensors.index.json'); // answered 404: a single-file model
    const fetched = [...new Set(firstRequests)].filter((f) => f !== 'model.safetensors.index.json');
    // One request per file, however often the engine reads it.
    expect(firstRequests.length).toBe(new Set(firstRequests).size);
    for (const file of fetched) {
      const events = progress.filter((p) => p.file === file);
      const size = fileSize(file);
      expect(events.at(-1)).toEqual({ file, loaded: size, total: size });
      // Bytes only ever add up, and never past the announced size.
      events.forEach((e, i) => {
        expect(e.total).toBe(size);
        if (i > 0) expect(e.loaded).toBeGreaterThanOrEqual(events[i - 1]!.loaded);
      });
    }
    expect(progress.filter((p) => p.file === 'model.safetensors').length).toBeGreaterThan(3);

    const sample = golden.samples[0]!;
    const image = await decodeImageFile(join(modelShapesPackageDir(), sample.image));
    const result = await engine.run({ prompt: sample.question, images: [image], maxNewTokens: 64 });
    const eos = new Set(engine.files.eosTokenIds);
    expect(result.tokenIds).toEqual(sample.greedy_ids.filter((id) => !eos.has(id)));
    expect(result.text).toBe(sample.greedy_text);
  });

  it('loads again from the same cache without a single request', async () => {
    const folder = urlModelFolder(server.url, { cache });
    let again: VlmEngine | undefined;
    const requests = await requestsDuring(async () => {
      again = await VlmEngine.load(folder, { platform });
    });
    expect(requests).toEqual([]);
    expect(again!.fingerprint).toBe(engine.fingerprint);
    await again!.dispose();
    await engine.dispose();
  });

  it('detects a corrupted or truncated cache entry and fetches the file again', async () => {
    const url = `${server.url}config.json`;
    const good = (await cache.get(url))!;
    expect(good).toBeDefined();
    const flipped = good.slice();
    flipped[7]! ^= 0x01;
    await cache.put(url, flipped);
    let text = '';
    expect(
      await requestsDuring(
        async () => (text = await urlModelFolder(server.url, { cache }).readText('config.json')),
      ),
    ).toEqual(['config.json']);
    expect(text).toBe(readFileSync(join(modelShapesDir(), 'config.json'), 'utf8'));
    // The refetched bytes replaced the damaged entry.
    expect(await cache.get(url)).toEqual(good);

    await cache.put(url, good.subarray(0, good.length - 10));
    expect(await requestsDuring(() => urlModelFolder(server.url, { cache }).readText('config.json'))).toEqual(
      ['config.json'],
    );
    expect(await requestsDuring(() => urlModelFolder(server.url, { cache }).readText('config.json'))).toEqual(
      [],
    );
  });

  it('says which required file the server does not have', async () => {
    server.hidden.add('tokenizer.json');
    try {
      await expect(
        VlmEngine.load(urlModelFolder(server.url, { cache: null }), { platform }),
      ).rejects.toMatchObject({
        code: 'E_MODEL_FILE_NOT_FOUND',
        message: expect.stringContaining('tokenizer.json is missing from the model folder http://127.0.0.1:'),
      });
      const folder = urlModelFolder(server.url, { cache: null });
      expect(await folder.exists('tokenizer.json')).toBe(false);
      await expect(folder.readText('tokenizer.json')).rejects.toThrow(/tokenizer\.json.*answered 404/);
    } finally {
      server.hidden.delete('tokenizer.json');
    }
  });

  it('fails a server error with the URL and status, and does not cache it', async () => {
    server.failing.set('config.json', 503);
    const folder = urlModelFolder(server.url, { cache: null });
    try {
      await expect(folder.readText('config.json')).rejects.toMatchObject({
        code: 'E_MODEL_FETCH',
        message: expect.stringMatching(/config\.json answered HTTP 503/),
      });
    } finally {
      server.failing.delete('config.json');
    }
    // A failed file is fetched again by the next read.
    expect(JSON.parse(await folder.readText('config.json')).model_type).toBe('llava');
  });

  it('fetches as if the cache were empty when the cache fails', async () => {
    const broken = {
      get: async () => {
        throw new Error('storage blocked');
      },
      put: async () => {
        throw new Error('quota exceeded');
      },
      delete: async () => {
        throw new Error('storage blocked');
      },
    };
    let text = '';
    const requests = await requestsDuring(async () => {
      text = await urlModelFolder(server.url, { cache: broken }).readText('config.json');
    });
    expect(requests).toEqual(['config.json']);
    expect(JSON.parse(text).model_type).toBe('llava');
  });

  it('refuses file names outside the folder', async () => {
    const folder = urlModelFolder(server.url, { cache: null });
    await expect(folder.readText('../secret.json')).rejects.toMatchObject({ code: 'E_MODEL_FILE_NAME' });
  });
});
