import { normalizeAnswer } from '@shortv/shapes';
import type { EngineApi, RunArm, RunResult } from '../engine-api.ts';
import { exportPlan } from '../plan-model.ts';
import type { Store } from '../store.ts';
import { clear, errorText, h } from './dom.ts';

const MAX_NEW_TOKENS = 32;

interface Column {
  root: HTMLElement;
  answer: HTMLElement;
  stats: HTMLElement;
}

function column(arm: RunArm, title: string): Column {
  const answer = h('p', { class: 'answer', 'data-testid': `answer-${arm}`, 'aria-live': 'polite' });
  const stats = h('dl', { class: 'stats', 'data-testid': `stats-${arm}` });
  const root = h('div', { class: 'column' }, h('h3', {}, title), answer, stats);
  return { root, answer, stats };
}

function statRow(list: HTMLElement, name: string, value: string, testId: string): void {
  list.append(h('dt', {}, name), h('dd', { 'data-testid': testId }, value));
}

function showStats(col: Column, arm: RunArm, result: RunResult): void {
  clear(col.stats);
  const s = result.stats;
  statRow(col.stats, 'prefill', `${s.prefillMs.toFixed(1)} ms`, `prefill-${arm}`);
  statRow(col.stats, 'decode', `${s.decodeTokensPerSecond.toFixed(1)} tokens/s`, `tps-${arm}`);
  statRow(col.stats, 'vision tower', `${s.visionMs.toFixed(1)} ms`, `vision-${arm}`);
  statRow(
    col.stats,
    'prefill FLOPs',
    `${(s.flops.planned / 1e9).toFixed(3)} GFLOPs (${(s.flops.ratio * 100).toFixed(1)}% of dense)`,
    `flops-${arm}`,
  );
  statRow(
    col.stats,
    'frozen layers',
    s.frozenLayers.length ? s.frozenLayers.join(', ') : 'none',
    `frozen-${arm}`,
  );
}

/**
 * Question, Run, and the dense and ShortV answers side by side: streamed text, prefill time, decode
 * speed, FLOPs, and whether the two answers agree.
 */
export function compareSection(store: Store, engine: EngineApi): HTMLElement {
  const question = h('input', {
    type: 'text',
    id: 'question',
    'data-testid': 'question',
    placeholder: 'Ask about the image, e.g. "What colour is the circle?"',
    size: 60,
  });
  const run = h('button', { type: 'button', 'data-testid': 'run' }, 'Run dense and ShortV');
  const dense = column('dense', 'Dense');
  const shortv = column('plan', 'ShortV (plan)');
  const summary = h('div', { class: 'summary', 'data-testid': 'summary' });
  const error = h('div', { class: 'error', role: 'alert', 'data-testid': 'compare-error', hidden: true });

  async function runBoth(): Promise<void> {
    const { image, target, draft } = store.state;
    error.hidden = true;
    if (!image || !target) return;
    const prompt = question.value.trim();
    if (!prompt) {
      error.textContent = 'Type a question first.';
      error.hidden = false;
      return;
    }
    store.update({ busy: 'running' });
    clear(summary);
    const results: Partial<Record<RunArm, RunResult>> = {};
    try {
      // A plan with no frozen layers is a valid plan: the ShortV column then runs the dense decoder.
      await engine.setPlan(exportPlan(target, draft));
      for (const [arm, col] of [
        ['dense', dense],
        ['plan', shortv],
      ] as const) {
        col.answer.textContent = '';
        clear(col.stats);
        col.root.classList.add('running');
        const result = await engine.generate(
          { image: image.blob, prompt, maxNewTokens: MAX_NEW_TOKENS, arm },
          (text) => {
            col.answer.textContent += text;
          },
        );
        col.root.classList.remove('running');
        col.answer.textContent = result.text;
        showStats(col, arm, result);
        results[arm] = result;
      }
      const a = results.dense!;
      const b = results.plan!;
      const agree = normalizeAnswer(a.text) === normalizeAnswer(b.text);
      summary.append(
        h(
          'p',
          {},
          'ShortV / dense prefill time: ',
          h('strong', { 'data-testid': 'prefill-ratio' }, (b.stats.prefillMs / a.stats.prefillMs).toFixed(3)),
          ' · prefill FLOPs: ',
          h('strong', { 'data-testid': 'flops-ratio' }, b.stats.flops.ratio.toFixed(3)),
          ' · answers ',
          h(
            'strong',
            { 'data-testid': 'agreement', class: agree ? 'agree' : 'disagree' },
            agree ? 'agree' : 'differ',
          ),
        ),
      );
      // The real prompt's text tokens make the plan editor's FLOPs estimate match what was run.
      store.update({
        target: { ...target, tokens: { visualTokens: a.stats.visualTokens, textTokens: a.stats.textTokens } },
      });
    } catch (e) {
      error.textContent = errorText(e);
      error.hidden = false;
    } finally {
      dense.root.classList.remove('running');
      shortv.root.classList.remove('running');
      store.update({ busy: null });
    }
  }

  run.addEventListener('click', () => void runBoth());
  question.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') void runBoth();
  });
  store.subscribe((state) => {
    run.disabled = state.busy !== null || !state.image || !state.target;
  });

  return h(
    'section',
    { id: 'compare' },
    h('h2', {}, 'Dense vs ShortV'),
    h('div', { class: 'row' }, question, run),
    error,
    h('div', { class: 'columns' }, dense.root, shortv.root),
    summary,
  );
}

/** Lets the image picker fill in a question for the image it chose. */
export function setQuestion(text: string): void {
  const input = document.getElementById('question') as HTMLInputElement | null;
  if (input) input.value = text;
}
