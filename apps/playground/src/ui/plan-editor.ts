import { lcChartSvg } from '@shortv/eval';
import {
  exportPlan,
  flopsRatio,
  importPlan,
  layersForFlops,
  lowestLcLayers,
  type PlanDraft,
  toggleLayer,
} from '../plan-model.ts';
import type { Store } from '../store.ts';
import { clear, errorText, h } from './dom.ts';

/**
 * The plan editor: one toggle per decoder layer, N lowest-LC layers by slider, a FLOPs-ratio target,
 * the live FLOPs estimate, the LC chart, and plan import/export in the CLI's file format.
 */
export function planEditorSection(store: Store): HTMLElement {
  const toggles = h('div', { class: 'layer-toggles', 'data-testid': 'layer-toggles' });
  const slider = h('input', { type: 'range', min: 0, max: 0, value: 0, 'data-testid': 'n-slider' });
  const sliderLabel = h('span', { 'data-testid': 'n-label' });
  const flopsTarget = h('input', {
    type: 'number',
    min: 0.05,
    max: 1,
    step: 0.01,
    value: 0.55,
    'data-testid': 'flops-target',
  });
  const flopsButton = h('button', { type: 'button', 'data-testid': 'flops-select' }, 'Freeze to target');
  const estimate = h('p', { class: 'estimate', 'data-testid': 'flops-estimate' });
  const hint = h('p', { class: 'hint', 'data-testid': 'lc-hint' });
  const chart = h('div', { class: 'lc-chart', 'data-testid': 'lc-chart' });
  const fileInput = h('input', {
    type: 'file',
    accept: '.json,application/json',
    'data-testid': 'plan-import',
  });
  const exportButton = h('button', { type: 'button', 'data-testid': 'plan-export' }, 'Export plan.json');
  const planText = h('pre', { class: 'plan-json', 'data-testid': 'plan-json' });
  const error = h('div', { class: 'error', role: 'alert', 'data-testid': 'plan-error', hidden: true });

  function setDraft(draft: PlanDraft): void {
    error.hidden = true;
    store.update({ draft });
  }

  function fail(e: unknown): void {
    error.textContent = errorText(e);
    error.hidden = false;
  }

  slider.addEventListener('input', () => {
    const { draft } = store.state;
    if (draft.lc) setDraft({ ...draft, frozen: lowestLcLayers(draft.lc, Number(slider.value)) });
  });
  flopsButton.addEventListener('click', () => {
    const { draft, target } = store.state;
    if (!draft.lc || !target) return;
    try {
      setDraft({ ...draft, frozen: layersForFlops(draft.lc, target, Number(flopsTarget.value)) });
    } catch (e) {
      fail(e);
    }
  });
  fileInput.addEventListener('change', async () => {
    const file = fileInput.files?.[0];
    fileInput.value = '';
    const { target } = store.state;
    if (!file || !target) return;
    try {
      setDraft(importPlan(target, await file.text()).draft);
    } catch (e) {
      fail(e);
    }
  });
  exportButton.addEventListener('click', () => {
    const { target, draft } = store.state;
    if (!target) return;
    try {
      const text = exportPlan(target, draft);
      const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
      const link = h('a', { href: url, download: 'plan.json' });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      fail(e);
    }
  });

  store.subscribe((state, previous) => {
    const { target, draft, busy } = state;
    if (!target) return;
    const L = target.identity.numLayers;
    if (target !== previous.target || toggles.childElementCount !== L) {
      clear(toggles);
      for (let layer = 0; layer < L; layer++) {
        const box = h('input', { type: 'checkbox', 'data-layer': layer });
        box.addEventListener('change', () => {
          const current = store.state.draft;
          setDraft({ ...current, frozen: toggleLayer(current.frozen, layer) });
        });
        toggles.append(h('label', { class: 'layer' }, box, String(layer)));
      }
      slider.max = String(L);
    }
    toggles.querySelectorAll<HTMLInputElement>('input[data-layer]').forEach((box) => {
      box.checked = draft.frozen.includes(Number(box.dataset.layer));
      box.disabled = busy !== null;
    });
    slider.disabled = !draft.lc || busy !== null;
    flopsButton.disabled = !draft.lc || busy !== null;
    slider.value = String(draft.frozen.length);
    sliderLabel.textContent = `N = ${draft.frozen.length} of ${L} layers frozen`;
    estimate.textContent = `Prefill FLOPs with this plan: ${(flopsRatio(target, draft.frozen) * 100).toFixed(1)}% of dense (${target.tokens.visualTokens} visual + ${target.tokens.textTokens} text tokens)`;
    hint.textContent = draft.lc
      ? `LC from ${draft.lc.samples} samples (${draft.lc.calibration.dataset}); lower = less useful for vision.`
      : 'No Layer Contribution yet: calibrate below or import a plan that carries LC to choose layers by it.';
    chart.innerHTML = draft.lc ? lcChartSvg(draft.lc, draft.frozen) : '';
    try {
      planText.textContent = exportPlan(target, draft);
    } catch (e) {
      planText.textContent = '';
      fail(e);
    }
  });

  return h(
    'section',
    { id: 'plan' },
    h('h2', {}, 'Freeze plan'),
    h('p', {}, 'Frozen layers pass visual tokens through unchanged and compute only the text rows.'),
    toggles,
    h('div', { class: 'row' }, h('label', {}, 'Lowest-LC layers ', slider), sliderLabel),
    h('div', { class: 'row' }, h('label', {}, 'FLOPs ratio target ', flopsTarget), flopsButton),
    estimate,
    hint,
    chart,
    h('div', { class: 'row' }, h('label', {}, 'Import plan.json ', fileInput), exportButton),
    error,
    h('details', {}, h('summary', {}, 'plan.json'), planText),
  );
}
