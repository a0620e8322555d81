import type { LoadProgress } from '../engine-api.ts';
import { formatBytes, h } from './dom.ts';

/** Model loading: one progress bar per file (bytes done / total), then the backend in use. */
export class StatusSection {
  readonly root: HTMLElement;
  private readonly files = h('ul', { class: 'files', 'data-testid': 'load-files' });
  private readonly state = h('p', { 'data-testid': 'model-status' }, 'loading the model…');
  private readonly backend = h('p', { 'data-testid': 'backend' });
  private readonly error = h('div', {
    class: 'error',
    role: 'alert',
    'data-testid': 'load-error',
    hidden: true,
  });
  private readonly bars = new Map<string, { bar: HTMLProgressElement; text: HTMLElement }>();

  constructor() {
    this.root = h(
      'section',
      { id: 'status' },
      h('h2', {}, 'Model'),
      this.state,
      this.backend,
      this.files,
      this.error,
    );
  }

  progress(p: LoadProgress): void {
    let row = this.bars.get(p.file);
    if (!row) {
      row = { bar: h('progress', { max: 1, value: 0 }), text: h('span') };
      this.bars.set(p.file, row);
      this.files.append(h('li', {}, h('code', {}, p.file), ' ', row.bar, ' ', row.text));
    }
    if (p.total) {
      row.bar.max = p.total;
      row.bar.value = p.loaded;
    }
    row.text.textContent = p.total
      ? `${formatBytes(p.loaded)} / ${formatBytes(p.total)}`
      : formatBytes(p.loaded);
  }

  ready(summary: string, backend: string): void {
    this.state.textContent = summary;
    this.state.dataset.ready = 'true';
    this.backend.textContent = backend;
  }

  failed(message: string): void {
    this.state.textContent = 'the model could not be loaded';
    this.error.textContent = message;
    this.error.hidden = false;
  }
}
