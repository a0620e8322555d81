// Runs in headless Chromium (bundled by ../browser.test.ts): the browser-only paths of the package.
import { decodeImage, EngineWorkerClient, urlModelFolder } from '../../src/index.ts';

interface PageInput {
  samplePng: string;
  question: string;
  wasmPaths: string;
}

async function fetchesDuring(action: (fetcher: typeof fetch) => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  await action((input, init) => {
    seen.push(new URL(String(input)).pathname);
    return fetch(input, init);
  });
  return seen;
}

async function caught(action: () => Promise<unknown>): Promise<{ code?: string; message?: string } | null> {
  try {
    await action();
    return null;
  } catch (error) {
    const e = error as { code?: string; message?: string };
    return { code: e.code, message: e.message };
  }
}

async function run(input: PageInput) {
  const png = await (await fetch(input.samplePng)).blob();
  const decoded = await decodeImage(png);
  const badImage = await caught(() =>
    decodeImage(new Blob([new Uint8Array([1, 2, 3, 4])], { type: 'image/png' })),
  );

  // Cache Storage: the default cache of urlModelFolder in a secure context.
  await caches.delete('shortv-models-v1');
  const read = (fetcher: typeof fetch) =>
    urlModelFolder('/model/', { fetch: fetcher }).readText('config.json');
  const firstFetches = await fetchesDuring(read);
  const cachedFetches = await fetchesDuring(read);
  const cache = await caches.open('shortv-models-v1');
  const url = new URL('/model/config.json', location.href).href;
  const good = new Uint8Array(await (await cache.match(url))!.arrayBuffer());
  const flipped = good.slice();
  flipped[5]! ^= 1;
  await cache.put(url, new Response(flipped));
  const corruptFetches = await fetchesDuring(read);
  await cache.put(url, new Response(good.slice(0, good.length - 3)));
  const truncatedFetches = await fetchesDuring(read);
  const healed = new Uint8Array(await (await cache.match(url))!.arrayBuffer());
  const cacheKeys = (await cache.keys()).map(
    (request) => new URL(request.url).pathname + new URL(request.url).search,
  );

  // The engine in a module worker, on 2 wasm threads, asked for WebGPU.
  const client = new EngineWorkerClient(new Worker('/worker.js', { type: 'module' }));
  const info = await client.load(
    { baseUrl: '/model/', cacheName: null },
    { backend: 'webgpu', numThreads: 2, wasmPaths: input.wasmPaths },
  );
  const tokens: string[] = [];
  const answer = await client.generate({ image: png, prompt: input.question, arm: 'dense' }, (t) =>
    tokens.push(t),
  );
  const workerBadImage = await caught(() =>
    client.generate({ image: new Blob([new Uint8Array([9, 9])]), prompt: input.question, arm: 'dense' }),
  );
  client.terminate();

  return {
    crossOriginIsolated,
    decoded: { width: decoded.width, height: decoded.height, data: Array.from(decoded.data) },
    badImage,
    firstFetches,
    cachedFetches,
    corruptFetches,
    truncatedFetches,
    healedEqualsGood: healed.length === good.length && healed.every((b, i) => b === good[i]),
    cacheKeys,
    backend: info.backend,
    answer: { text: answer.text, streamed: tokens.join(''), prefillMs: answer.stats.prefillMs },
    workerBadImage,
  };
}

(globalThis as { runChecks?: typeof run }).runChecks = run;
