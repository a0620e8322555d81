import './style.css';
import { createEngineApi } from './engine-api.ts';
import type { PlaygroundSample } from './sample-index.ts';
import { Store } from './store.ts';
import { calibrationSection } from './ui/calibration.ts';
import { compareSection } from './ui/compare.ts';
import { errorText, h } from './ui/dom.ts';
import { imagePickerSection } from './ui/image-picker.ts';
import { planEditorSection } from './ui/plan-editor.ts';
import { StatusSection } from './ui/status.ts';

const base = import.meta.env.BASE_URL;

async function readSamples(): Promise<PlaygroundSample[]> {
  const response = await fetch(`${base}samples/index.json`);
  if (!response.ok) throw new Error(`samples/index.json: HTTP ${response.status}`);
  return (await response.json()) as PlaygroundSample[];
}

async function start(): Promise<void> {
  const app = document.getElementById('app')!;
  const store = new Store();
  const status = new StatusSection();
  const params = new URLSearchParams(location.search);
  const backend = params.get('backend') === 'webgpu' ? 'webgpu' : 'wasm';
  // ?threads=N overrides the wasm thread count (default: up to 4 when cross-origin isolated, else 1).
  const threads = Number.parseInt(params.get('threads') ?? '', 10);
  const engine = createEngineApi(
    new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module' }),
  );
  const samples = await readSamples().catch(() => []);

  app.append(
    h(
      'header',
      {},
      h('h1', {}, 'ShortV playground'),
      h(
        'p',
        {},
        'Freeze the visual tokens of the decoder layers where they barely matter, and see what it costs and saves. Everything runs in this page; nothing is sent anywhere.',
      ),
    ),
    status.root,
    imagePickerSection(store, base, samples),
    compareSection(store, engine),
    planEditorSection(store),
    calibrationSection(store, engine),
  );

  try {
    // ?model=URL loads another LLaVA folder served from this origin (or one that allows CORS).
    const folder = new URL(params.get('model') ?? `${base}model/`, location.href).href;
    const model = await engine.load(folder, {
      backend,
      textTokens: samples[0]?.textTokens ?? 0,
      ...(threads >= 1 ? { numThreads: threads } : {}),
      onProgress: (p) => status.progress(p),
    });
    status.ready(
      `ready: ${model.summary}`,
      `backend: ${model.backend.backend}, ${model.backend.threads} thread(s)${
        model.backend.fallbackReason ? ` (fell back to wasm: ${model.backend.fallbackReason})` : ''
      }${crossOriginIsolated ? '' : '; the page is not cross-origin isolated, so wasm runs single-threaded'}`,
    );
    store.update({ target: model.target, busy: null });
  } catch (e) {
    status.failed(errorText(e));
  }
}

start().catch((e) => {
  document.body.append(
    h('div', { class: 'error', role: 'alert' }, `The playground failed to start: ${errorText(e)}`),
  );
});
