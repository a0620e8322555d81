import { engineSuite } from '@shortv/runtime-core/testing/engine-suite';
import { describe, expect, it } from 'vitest';
import { webBackendInfo, webPlatform } from '../src/index.ts';

// The engine suite every platform passes, here on onnxruntime-web's wasm backend in Node.
engineSuite('the web platform (wasm, 1 thread)', () => webPlatform({ numThreads: 1 }));

describe('webPlatform', () => {
  it('reports its backend and threads', () => {
    expect(webBackendInfo(webPlatform({ numThreads: 1 }))).toEqual({ backend: 'wasm', threads: 1 });
  });

  it('defaults to one thread outside a cross-origin isolated page', () => {
    expect(webBackendInfo(webPlatform()).threads).toBe(1);
  });

  it('falls back to wasm where there is no WebGPU, saying why', () => {
    const info = webBackendInfo(webPlatform({ backend: 'webgpu', numThreads: 1 }));
    expect(info.backend).toBe('wasm');
    expect(info.fallbackReason).toMatch(/navigator\.gpu/);
  });

  it('refuses bad options', () => {
    expect(() => webPlatform({ numThreads: 0 })).toThrow(
      expect.objectContaining({ code: 'E_RUNTIME_OPTION' }),
    );
    expect(() => webPlatform({ backend: 'cuda' as never })).toThrow(/wasm' or 'webgpu/);
  });

  it('is not a web platform when made elsewhere', () => {
    expect(() => webBackendInfo({ name: 'node' } as never)).toThrow(/not a web platform/);
  });
});
