import type { EngineApi } from '../engine-api.ts';
import { lowestLcLayers } from '../plan-model.ts';
import { calibrationSamples } from '../scenes.ts';
import type { Store } from '../store.ts';
import { errorText, h } from './dom.ts';

const DEFAULT_SAMPLES = 16;
const CALIBRATION_SEED = 0;

/**
 * Layer Contribution measured in the page on K calibration questions, with progress and Cancel. The
 * result picks the round(0.6 L) lowest-LC layers, the share the ShortV paper freezes.
 */
export function calibrationSection(store: Store, engine: EngineApi): HTMLElement {
  const count = h('input', {
    type: 'number',
    min: 1,
    max: 256,
    value: DEFAULT_SAMPLES,
    'data-testid': 'calib-count',
  });
  const start = h('button', { type: 'button', 'data-testid': 'calib-start' }, 'Calibrate');
  const cancel = h('button', { type: 'button', 'data-testid': 'calib-cancel', disabled: true }, 'Cancel');
  const progress = h('progress', { max: 1, value: 0, 'data-testid': 'calib-progress' });
  const status = h('span', { 'data-testid': 'calib-status' });
  const error = h('div', { class: 'error', role: 'alert', 'data-testid': 'calib-error', hidden: true });

  start.addEventListener('click', async () => {
    const k = Number(count.value);
    error.hidden = true;
    if (!Number.isInteger(k) || k < 1 || k > 256) {
      error.textContent = 'The number of calibration samples must be a whole number from 1 to 256.';
      error.hidden = false;
      return;
    }
    store.update({ busy: 'calibrating' });
    cancel.disabled = false;
    progress.max = k;
    progress.value = 0;
    status.textContent = `0/${k} samples`;
    try {
      const lc = await engine.calibrate(calibrationSamples(k, CALIBRATION_SEED), (done, total) => {
        progress.value = done;
        status.textContent = `${done}/${total} samples`;
      });
      const n = Math.round(0.6 * lc.model.numLayers);
      store.update({ draft: { lc, frozen: lowestLcLayers(lc, n) } });
      status.textContent = `done: ${lc.samples} samples; froze the ${n} lowest-LC layers`;
    } catch (e) {
      if (e && typeof e === 'object' && 'code' in e && e.code === 'E_ABORTED') {
        status.textContent = 'cancelled; the plan is unchanged';
      } else {
        error.textContent = errorText(e);
        error.hidden = false;
        status.textContent = '';
      }
    } finally {
      cancel.disabled = true;
      store.update({ busy: null });
    }
  });
  cancel.addEventListener('click', () => engine.abort());
  store.subscribe((state) => {
    start.disabled = state.busy !== null || !state.target;
  });

  return h(
    'section',
    { id: 'calibration' },
    h('h2', {}, 'Calibrate Layer Contribution'),
    h(
      'p',
      {},
      'For each layer, how much the answer changes when that layer’s updates of visual (and of text) tokens are removed: KL divergence at the first answer token, averaged over shapes questions.',
    ),
    h('div', { class: 'row' }, h('label', {}, 'Samples ', count), start, cancel, progress, status),
    error,
  );
}
