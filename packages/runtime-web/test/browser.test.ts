import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { modelShapesDir, modelShapesGoldenPath, modelShapesPackageDir } from '@shortv/model-shapes/node';
import { decodeImageFile } from '@shortv/runtime-node';
import { build } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * The browser-only paths (createImageBitmap + OffscreenCanvas decoding, Cache Storage, a module Worker,
 * wasm threads under COOP/COEP, the WebGPU fallback) in headless Chromium: Debian's
 * (apt-get install -y chromium), or the one SHORTV_CHROMIUM names.
 */
const CHROMIUM = process.env.SHORTV_CHROMIUM ?? '/usr/bin/chromium';
const here = dirname(fileURLToPath(import.meta.url));
// onnxruntime-web's .wasm/.mjs files, served at /ort/ (the page sets wasmPaths to it).
const ortDist = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
const golden = JSON.parse(await readFile(modelShapesGoldenPath(), 'utf8')) as {
  samples: { image: string; question: string; greedy_text: string }[];
};
const sample = golden.samples[0]!;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
};

let bundleDir: string;
let server: Server;
let browser: Browser;
let origin: string;

function serve(roots: Record<string, string>): Promise<Server> {
  const isolation = {
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-embedder-policy': 'require-corp',
  };
  const s = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path === '/') {
      res.writeHead(200, { ...isolation, 'content-type': 'text/html' });
      res.end('<!doctype html><script type="module" src="/page.js"></script>');
      return;
    }
    const prefix = Object.keys(roots).find((p) => path.startsWith(p) && p !== '/') ?? '/';
    const rest = path.slice(prefix.length);
    if (rest.includes('..')) {
      res.writeHead(400, isolation).end();
      return;
    }
    try {
      const bytes = await readFile(join(roots[prefix]!, rest));
      res.writeHead(200, {
        ...isolation,
        'content-type': TYPES[extname(path)] ?? 'application/octet-stream',
        'content-length': bytes.byteLength,
      });
      res.end(bytes);
    } catch {
      res.writeHead(404, isolation).end('not found');
    }
  });
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(s)));
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium, or set SHORTV_CHROMIUM`);
  }
  bundleDir = await mkdtemp(join(tmpdir(), 'shortv-runtime-web-'));
  await build({
    entryPoints: { page: join(here, 'browser/page.ts'), worker: join(here, 'browser/worker.ts') },
    outdir: bundleDir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@shortv/source'],
    logLevel: 'error',
  });
  server = await serve({
    '/model/': modelShapesDir(),
    '/samples/': join(modelShapesPackageDir(), 'samples'),
    '/ort/': ortDist,
    '/': bundleDir,
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
  if (bundleDir) await rm(bundleDir, { recursive: true, force: true });
});

describe('in headless Chromium', () => {
  it('decodes images, caches with integrity checks, and runs the engine worker on 2 threads', async () => {
    const page = await browser.newPage();
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => 'runChecks' in globalThis);
    const result = await page.evaluate(
      (input) => (globalThis as unknown as { runChecks(i: typeof input): Promise<never> }).runChecks(input),
      { samplePng: `/${sample.image}`, question: sample.question, wasmPaths: '/ort/' },
    );
    const r = result as {
      crossOriginIsolated: boolean;
      decoded: { width: number; height: number; data: number[] };
      badImage: { code: string; message: string };
      firstFetches: string[];
      cachedFetches: string[];
      corruptFetches: string[];
      truncatedFetches: string[];
      healedEqualsGood: boolean;
      cacheKeys: string[];
      backend: { backend: string; threads: number; fallbackReason?: string };
      answer: { text: string; streamed: string };
      workerBadImage: { code: string; message: string };
    };

    // Same pixels as sharp decodes in Node.
    const reference = await decodeImageFile(join(modelShapesPackageDir(), sample.image));
    expect([r.decoded.width, r.decoded.height]).toEqual([reference.width, reference.height]);
    expect(r.decoded.data).toEqual(Array.from(reference.data));
    expect(r.badImage.code).toBe('E_IMAGE_DECODE');
    expect(r.badImage.message).toMatch(/4 bytes, image\/png.*could not be decoded/);

    expect(r.firstFetches).toEqual(['/model/config.json']);
    expect(r.cachedFetches).toEqual([]);
    expect(r.corruptFetches).toEqual(['/model/config.json']);
    expect(r.truncatedFetches).toEqual(['/model/config.json']);
    expect(r.healedEqualsGood).toBe(true);
    expect(r.cacheKeys.sort()).toEqual(['/model/config.json', '/model/config.json?shortv-meta=1']);

    expect(r.crossOriginIsolated).toBe(true);
    expect(r.backend.threads).toBe(2);
    // A machine without a usable GPU runs on wasm and says why; one with a GPU runs on WebGPU.
    if (r.backend.backend === 'wasm') expect(r.backend.fallbackReason).toMatch(/WebGPU|navigator\.gpu/);
    else expect(r.backend.backend).toBe('webgpu');
    expect(r.answer.text).toBe(sample.greedy_text);
    expect(r.answer.streamed).toBe(r.answer.text);
    expect(r.workerBadImage.code).toBe('E_IMAGE_DECODE');
    await page.close();
  });
});
