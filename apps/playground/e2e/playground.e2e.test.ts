import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelShapesGolden } from '@shortv/model-shapes';
import { modelShapesGoldenPath, modelShapesPackageDir } from '@shortv/model-shapes/node';
import { parseLlavaConfigText } from '@shortv/models';
import { parsePlan } from '@shortv/plan';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromiumProfile } from './browser.ts';
import { shortv } from './cli.ts';
import setup from './global-setup.ts';
import { type StaticSite, serveStatic } from './static-server.ts';

const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
const OUTPUT = fileURLToPath(new URL('./output/', import.meta.url));
const LOAD_TIMEOUT = 180_000;

let site: StaticSite;
let context: BrowserContext;
let page: Page;
let work: string;
const requests: string[] = [];
const results: Record<string, unknown> = {};
const golden = JSON.parse(await readFile(modelShapesGoldenPath(), 'utf8')) as ModelShapesGolden;
/** The bundled model's decoder depth, from its config.json. */
const LAYERS = parseLlavaConfigText(
  await readFile(join(modelShapesPackageDir(), 'model', 'config.json'), 'utf8'),
).text.numLayers;

async function waitReady(target: Page): Promise<void> {
  await target.waitForSelector('[data-testid="model-status"][data-ready="true"]', { timeout: LOAD_TIMEOUT });
}

async function runBoth(): Promise<{ dense: string; plan: string; ratio: number }> {
  await page.click('[data-testid="run"]');
  await page.waitForSelector('[data-testid="prefill-ratio"], [data-testid="compare-error"]:not([hidden])', {
    timeout: 120_000,
  });
  const error = page.locator('[data-testid="compare-error"]');
  if (await error.isVisible()) throw new Error(`the page reported: ${await error.textContent()}`);
  return {
    dense: (await page.textContent('[data-testid="answer-dense"]')) ?? '',
    plan: (await page.textContent('[data-testid="answer-plan"]')) ?? '',
    ratio: Number(await page.textContent('[data-testid="prefill-ratio"]')),
  };
}

async function frozenInPage(): Promise<number[]> {
  return page.$$eval('[data-testid="layer-toggles"] input[data-layer]', (boxes) =>
    (boxes as HTMLInputElement[]).filter((b) => b.checked).map((b) => Number(b.dataset.layer)),
  );
}

async function importPlanText(text: string, name = 'plan.json'): Promise<void> {
  await page.setInputFiles('[data-testid="plan-import"]', {
    name,
    mimeType: 'application/json',
    buffer: Buffer.from(text),
  });
}

beforeAll(async () => {
  await setup();
  await mkdir(OUTPUT, { recursive: true });
  work = await mkdtemp(join(tmpdir(), 'shortv-playground-'));
  site = await serveStatic(DIST);
  context = await launchChromiumProfile(join(work, 'profile'), { viewport: { width: 1200, height: 1800 } });
  context.on('request', (request) => requests.push(request.url()));
  page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') console.log(`[page] ${message.text()}`);
  });
});

/** The graph cache of the CLI commands this suite runs: inside `work`, so it goes with it. */
const graphs = () => join(work, 'graphs');

afterAll(async () => {
  await writeFile(join(OUTPUT, 'results.json'), `${JSON.stringify(results, null, 2)}\n`).catch(() => {});
  await context?.close();
  await site?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the playground in headless Chromium', () => {
  it('loads the bundled model from its own origin, cross-origin isolated', async () => {
    site.resetCounts();
    const started = Date.now();
    await page.goto(`${site.origin}/`);
    await waitReady(page);
    results.coldLoad = { bytes: site.totalBytes(), seconds: (Date.now() - started) / 1000 };
    console.log(`cold load: ${site.totalBytes()} bytes fetched in ${(Date.now() - started) / 1000} s`);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(await page.textContent('[data-testid="backend"]')).toMatch(/backend: wasm, 2 thread/);
    // The whole model came over the network once.
    expect(site.bytesByPath().get('/model/model.safetensors')).toBeGreaterThan(10_000_000);
  });

  it('answers golden questions exactly as the Node runtime does', async () => {
    for (const sample of golden.samples.slice(0, 3)) {
      await page.click(`[data-testid="sample-${sample.id}"]`);
      await page.waitForFunction(
        (q) => (document.getElementById('question') as HTMLInputElement).value === q,
        sample.question,
      );
      expect(await page.inputValue('[data-testid="question"]')).toBe(sample.question);
      const answers = await runBoth();
      // No layer is frozen yet, so both arms are the dense model.
      expect(answers.dense).toBe(sample.greedy_text);
      expect(answers.plan).toBe(sample.greedy_text);
    }
  });

  it('imports a plan written by `shortv plan` with the same frozen layers and bytes', async () => {
    const data = join(work, 'calibration');
    expect(
      (
        await shortv(
          ['dataset', 'shapes', '--out', data, '--count', '8', '--seed', '3', '--split', 'calibration'],
          graphs(),
        )
      ).code,
    ).toBe(0);
    const lc = join(work, 'lc.json');
    const calibrate = await shortv(['calibrate', '--data', data, '--samples', '8', '--out', lc], graphs());
    expect(calibrate.code, calibrate.stderr).toBe(0);
    const planPath = join(work, 'cli-plan.json');
    const plan = await shortv(['plan', '--lc', lc, '--layers', '7', '--out', planPath], graphs());
    expect(plan.code, plan.stderr).toBe(0);
    const text = await readFile(planPath, 'utf8');
    const cliFrozen = parsePlan(text)
      .layers.map((l) => l.index)
      .sort((a, b) => a - b);

    await importPlanText(text);
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid="layer-toggles"] input:checked').length === n,
      cliFrozen.length,
    );
    expect(await frozenInPage()).toEqual(cliFrozen);
    // The page writes back exactly what it read: one format for the CLI and the page.
    expect(await page.textContent('[data-testid="plan-json"]')).toBe(text);
    expect(await page.isVisible('[data-testid="lc-chart"] svg')).toBe(true);
    results.cliPlanFrozen = cliFrozen;
  });

  it('runs dense and ShortV side by side and shows both answers and the prefill ratio', async () => {
    const sample = golden.samples[0]!;
    await page.click(`[data-testid="sample-${sample.id}"]`);
    // Several runs, each dense then ShortV on the same engine; the machine is shared, so medians.
    const runs: { denseMs: number; planMs: number; ratio: number }[] = [];
    // One untimed run first: the first run of a session pays onnxruntime-web's one-time set-up.
    let last = await runBoth();
    for (let i = 0; i < 5; i++) {
      last = await runBoth();
      runs.push({
        denseMs: Number.parseFloat((await page.textContent('[data-testid="prefill-dense"]')) ?? ''),
        planMs: Number.parseFloat((await page.textContent('[data-testid="prefill-plan"]')) ?? ''),
        ratio: last.ratio,
      });
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
    const denseMs = median(runs.map((r) => r.denseMs));
    const planMs = median(runs.map((r) => r.planMs));
    const medianRatio = median(runs.map((r) => r.ratio));
    const flops = Number(await page.textContent('[data-testid="flops-ratio"]'));
    results.sideBySide = { runs, denseMs, planMs, medianRatio, flopsRatio: flops, ...last };
    console.log(
      `side by side (median of ${runs.length}): dense prefill ${denseMs} ms, ShortV ${planMs} ms, ShortV/dense ${medianRatio} (per run ${runs.map((r) => r.ratio).join(', ')}); FLOPs ratio ${flops}; answers "${last.dense}" / "${last.plan}"`,
    );
    expect(last.dense).toBe(sample.greedy_text);
    expect(last.plan.length).toBeGreaterThan(0);
    expect(denseMs).toBeGreaterThan(0);
    expect(planMs).toBeGreaterThan(0);
    expect(flops).toBeGreaterThan(0.3);
    expect(flops).toBeLessThan(0.8);
    expect(await page.textContent('[data-testid="frozen-plan"]')).toBe(
      (results.cliPlanFrozen as number[]).join(', '),
    );
    await page.screenshot({ path: join(OUTPUT, 'side-by-side.png'), fullPage: true });
  });

  it('exports a plan that `shortv inspect` and `shortv run` accept', async () => {
    // Change the draft first so the export is the page's own plan, not the imported file.
    const before = await frozenInPage();
    const extra = [...Array(LAYERS).keys()].find((l) => !before.includes(l))!;
    await page.click(`[data-testid="layer-toggles"] input[data-layer="${extra}"]`);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-testid="plan-export"]'),
    ]);
    const path = join(work, 'page-plan.json');
    await download.saveAs(path);
    const expected = [...before, extra].sort((a, b) => a - b);
    const inspect = await shortv(['inspect', '--plan', path, '--json'], graphs());
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(JSON.stringify(JSON.parse(inspect.stdout))).toContain(JSON.stringify(expected));
    const sample = golden.samples[0]!;
    const run = await shortv(
      [
        'run',
        '--plan',
        path,
        '--image',
        join(modelShapesPackageDir(), sample.image),
        '--prompt',
        sample.question,
        '--json',
      ],
      graphs(),
    );
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as { answer: string; stats: { frozenLayers: number[] } };
    expect(out.stats.frozenLayers).toEqual(expected);
  });

  it('shows what is wrong with a malformed plan, or a plan for another model', async () => {
    const good = await page.textContent('[data-testid="plan-json"]');
    const bad = JSON.parse(good!) as { layers: { index: number }[]; model: { fingerprint: string } };
    bad.layers[0]!.index = 99;
    await importPlanText(JSON.stringify(bad));
    await page.waitForSelector('[data-testid="plan-error"]:not([hidden])');
    expect(await page.textContent('[data-testid="plan-error"]')).toContain('$.layers[0].index');

    await importPlanText('{ "format": "shortv.freeze-plan", ');
    await page.waitForFunction(() =>
      document.querySelector('[data-testid="plan-error"]')?.textContent?.includes('not valid JSON'),
    );

    const other = JSON.parse(good!) as { model: { fingerprint: string } };
    other.model.fingerprint = `sha256:${'0'.repeat(64)}`;
    await importPlanText(JSON.stringify(other));
    await page.waitForFunction(() =>
      /fingerprint/.test(document.querySelector('[data-testid="plan-error"]')?.textContent ?? ''),
    );
  });

  it('calibrates in the page, and Cancel stops a calibration', async () => {
    await page.fill('[data-testid="calib-count"]', '16');
    await page.click('[data-testid="calib-start"]');
    await page.waitForFunction(
      () =>
        Number((document.querySelector('[data-testid="calib-progress"]') as HTMLProgressElement).value) >= 1,
      undefined,
      { timeout: 120_000 },
    );
    await page.click('[data-testid="calib-cancel"]');
    await page.waitForFunction(() => {
      const status = document.querySelector('[data-testid="calib-status"]')?.textContent ?? '';
      const error = document.querySelector('[data-testid="calib-error"]') as HTMLElement;
      return status.includes('cancelled') || status.startsWith('done') || !error.hidden;
    });
    const calibError = page.locator('[data-testid="calib-error"]');
    expect((await calibError.isVisible()) ? await calibError.textContent() : '').toBe('');
    expect(await page.textContent('[data-testid="calib-status"]')).toContain('cancelled');
    const progress = await page.$eval(
      '[data-testid="calib-progress"]',
      (p) => (p as HTMLProgressElement).value,
    );
    expect(progress).toBeLessThan(16);

    await page.fill('[data-testid="calib-count"]', '2');
    await page.click('[data-testid="calib-start"]');
    await page.waitForFunction(
      () => document.querySelector('[data-testid="calib-status"]')?.textContent?.startsWith('done'),
      undefined,
      { timeout: 120_000 },
    );
    // A calibration in the page freezes round(0.6 L) layers, as `shortv plan` does by default.
    expect(await frozenInPage()).toHaveLength(Math.round(0.6 * LAYERS));
    expect(await page.textContent('[data-testid="lc-hint"]')).toContain('LC from 2 samples');
  });

  it('draws a random shapes scene in the page and answers about it', async () => {
    await page.click('[data-testid="scene-draw"]');
    await page.waitForFunction(() =>
      document.querySelector('[data-testid="image-label"]')?.textContent?.startsWith('shapes scene'),
    );
    expect(await page.inputValue('[data-testid="question"]')).not.toBe('');
    const answers = await runBoth();
    expect(answers.dense.length).toBeGreaterThan(0);
    expect(answers.plan.length).toBeGreaterThan(0);
  });

  it('names an image that cannot be decoded', async () => {
    await page.setInputFiles('[data-testid="image-upload"]', {
      name: 'broken.png',
      mimeType: 'image/png',
      buffer: Buffer.from('this is not a PNG'),
    });
    await page.click('[data-testid="run"]');
    await page.waitForSelector('[data-testid="compare-error"]:not([hidden])', { timeout: 60_000 });
    expect(await page.textContent('[data-testid="compare-error"]')).toMatch(/E_IMAGE_DECODE/);
  });

  it('reloads from its caches without fetching the model again', async () => {
    site.resetCounts();
    await page.reload();
    await waitReady(page);
    const bytes = site.bytesByPath();
    results.reload = { bytes: site.totalBytes(), paths: Object.fromEntries(bytes) };
    console.log(`reload: ${site.totalBytes()} bytes fetched (${[...bytes.keys()].join(', ')})`);
    expect(bytes.has('/model/model.safetensors')).toBe(false);
    expect(site.totalBytes()).toBeLessThan(100_000);
  });

  it('shows an error, not a blank page, when the model folder fails', async () => {
    const broken = await context.newPage();
    await broken.goto(`${site.origin}/?model=${encodeURIComponent('missing-model/')}`);
    await broken.waitForSelector('[data-testid="load-error"]:not([hidden])', { timeout: 60_000 });
    expect(await broken.textContent('[data-testid="load-error"]')).toContain('config.json');
    await broken.close();
  });

  it('sent no request outside the page’s origin', () => {
    const outside = requests.filter((url) => !url.startsWith(site.origin) && !/^(blob|data):/.test(url));
    expect(requests.length).toBeGreaterThan(10);
    expect(outside).toEqual([]);
  });
});
