import { describe, expect, it } from 'vitest';
import { VlmEngine } from '../src/index.ts';
import { engineSuite } from '../src/testing/engine-suite.ts';
import {
  nodeTestPlatform,
  testImage,
  testPlatforms,
  tinyModelFolder,
  wasmTestPlatform,
} from '../src/testing/index.ts';

const PROMPT = 'what color is the circle?';

engineSuite('onnxruntime-node', nodeTestPlatform);
engineSuite('onnxruntime-web-wasm', wasmTestPlatform);

describe('graph cache keys', () => {
  it('do not let two checkpoints of one architecture share cached graphs', async () => {
    const stored = new Map<string, Uint8Array>();
    const [base] = await testPlatforms();
    const platform = {
      ...base!,
      graphCache: {
        get: async (key: string) => stored.get(key),
        put: async (key: string, bytes: Uint8Array) => {
          stored.set(key, bytes);
        },
      },
    };
    const image = testImage(20, 16);
    const a = await VlmEngine.load(tinyModelFolder({ numKvHeads: 2, seed: 1 }).folder, { platform });
    const b = await VlmEngine.load(tinyModelFolder({ numKvHeads: 2, seed: 2 }).folder, { platform });
    // Same config and tensor table: the plan fingerprint is shared, the weights are not.
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(stored.size).toBe(6);
    const request = { prompt: PROMPT, images: [image], maxNewTokens: 4 };
    const fromCacheFree = await VlmEngine.load(tinyModelFolder({ numKvHeads: 2, seed: 2 }).folder, {
      platform: base!,
    });
    expect((await b.run(request)).tokenIds).toEqual((await fromCacheFree.run(request)).tokenIds);
    await Promise.all([a.dispose(), b.dispose(), fromCacheFree.dispose()]);
  });
});
