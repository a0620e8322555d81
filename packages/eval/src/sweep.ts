import { GenerationAbortedError, type VlmEngine } from '@shortv/runtime-core';
import { argmax, type RawImage, ShortvError, Tensor } from '@shortv/tensor';

/** One question of the sweep; its reference answer is fed back token by token (teacher forcing). */
export interface SweepSample {
  id: string;
  question: string;
  answer: string;
  loadImage: () => Promise<RawImage>;
}

/** A way of choosing which layers to freeze: set N is the first N layers of each order (several orders are averaged). */
export interface SweepRule {
  label: string;
  orders: number[][];
}

export interface SweepPoint {
  /** Frozen layers. */
  n: number;
  /** Share of samples whose every reference answer token is the greedy choice (mean over the rule's orders). */
  accuracy: number;
}

export interface SweepResult {
  samples: number;
  rules: { label: string; points: SweepPoint[] }[];
  /** Distinct frozen-layer sets evaluated (the same set under two rules is evaluated once). */
  sets: number;
  /** Decoder layer runs per sample, and what one full pass per set would have taken. */
  layerRuns: number;
  naiveLayerRuns: number;
}

export type SweepEngine = Pick<VlmEngine, 'preparePrompt' | 'layerwise' | 'config'>;

function checkRules(rules: readonly SweepRule[], layers: number): void {
  for (const rule of rules) {
    for (const order of rule.orders) {
      const sorted = [...order].sort((a, b) => a - b);
      if (order.length !== layers || sorted.some((l, i) => l !== i)) {
        throw new ShortvError(
          'E_EVAL_SWEEP',
          `rule "${rule.label}": each order must list every layer 0..${layers - 1} once; got ${order.join(',')}`,
        );
      }
    }
  }
}

/**
 * Accuracy of ShortV with N = 0..L frozen layers under several layer-choice rules, on a layer-by-layer
 * pass with teacher forcing: a sample counts as right when, with the reference answer fed back, every
 * answer token is the greedy choice (the first-token LC machinery's view of greedy exact match; it cannot
 * see what follows the last answer token). Frozen layers are the LC ablation's masked layers (visual rows
 * keep their input), which compute what a ShortV prefill computes.
 *
 * Cost: the distinct sets are walked as a prefix tree over layers 0..L-1, so two sets that freeze the same
 * layers below layer j share the runs of those layers; `layerRuns` counts the runs made per sample and
 * `naiveLayerRuns` what one full pass per set costs.
 */
export async function sweepLayerChoices(
  engine: SweepEngine,
  samples: readonly SweepSample[],
  rules: readonly SweepRule[],
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<SweepResult> {
  const L = engine.config.text.numLayers;
  checkRules(rules, L);
  if (samples.length === 0) throw new ShortvError('E_EVAL_NO_SAMPLES', 'the sweep needs at least one sample');
  const keyOf = (layers: readonly number[]) => [...layers].sort((a, b) => a - b).join(',');
  const sets = new Map<string, boolean[]>();
  for (const rule of rules) {
    for (const order of rule.orders) {
      for (let n = 0; n <= L; n++) {
        const chosen = order.slice(0, n);
        const bits = new Array<boolean>(L).fill(false);
        for (const l of chosen) bits[l] = true;
        sets.set(keyOf(chosen), bits);
      }
    }
  }
  const keys = [...sets.keys()];
  const bits = keys.map((k) => sets.get(k)!);
  const correct = new Array<number>(keys.length).fill(0);
  const runner = engine.layerwise();
  let layerRuns = 0;
  for (const [done, sample] of samples.entries()) {
    if (options.signal?.aborted) throw new GenerationAbortedError();
    const prepared = await engine.preparePrompt({
      prompt: sample.question,
      images: [await sample.loadImage()],
      answer: sample.answer,
    });
    const d = prepared.hiddenSize;
    const frozenMask = Float32Array.from(prepared.visual, (v) => (v ? 0 : 1));
    const right = async (hidden: Tensor<'float32'>): Promise<boolean> => {
      const logits = await runner.logitsAt(hidden, prepared.scoreRows);
      const vocab = logits.dims[2]!;
      return prepared.answerIds.every(
        (id, k) => argmax(logits.data.subarray(k * vocab, (k + 1) * vocab)) === id,
      );
    };
    const visit = async (hidden: Tensor<'float32'>, depth: number, members: number[]): Promise<void> => {
      if (options.signal?.aborted) throw new GenerationAbortedError();
      const lead = bits[members[0]!]!;
      let end = depth;
      while (end < L && members.every((m) => bits[m]![end] === lead[end])) end++;
      let h = hidden;
      if (end > depth) {
        const masks = new Map<number, Float32Array>();
        for (let l = depth; l < end; l++) if (lead[l]) masks.set(l, frozenMask);
        h = await runner.runLayers(depth, end, hidden, {
          masks,
          ...(options.signal ? { signal: options.signal } : {}),
        });
        layerRuns += end - depth;
      }
      if (end === L) {
        if (await right(h)) for (const m of members) correct[m]!++;
        return;
      }
      const dense = members.filter((m) => !bits[m]![end]);
      const frozen = members.filter((m) => bits[m]![end]);
      if (dense.length > 0) await visit(h, end, dense);
      if (frozen.length > 0) await visit(h, end, frozen);
    };
    await visit(
      new Tensor('float32', prepared.embeds, [1, prepared.seq, d]),
      0,
      keys.map((_, i) => i),
    );
    options.onProgress?.(done + 1, samples.length);
  }
  const accuracyOf = (layers: readonly number[]) => correct[keys.indexOf(keyOf(layers))]! / samples.length;
  return {
    samples: samples.length,
    rules: rules.map((rule) => ({
      label: rule.label,
      points: Array.from({ length: L + 1 }, (_, n) => ({
        n,
        accuracy:
          rule.orders.reduce((sum, order) => sum + accuracyOf(order.slice(0, n)), 0) / rule.orders.length,
      })),
    })),
    sets: keys.length,
    layerRuns: layerRuns / samples.length,
    naiveLayerRuns: keys.length * L,
  };
}
