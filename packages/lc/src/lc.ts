import {
  createRandom,
  type LayerwiseRunner,
  type PreparedSequence,
  type VlmEngine,
} from '@shortv/runtime-core';
import { klDivergenceFromLogits, type RawImage, ShortvError, Tensor } from '@shortv/tensor';
import type { AnswerAggregation, KlDirection, LcResult, LcSampleResult, LcSchedule } from './types.ts';

/** One calibration sample: a prompt about one or more images, and optionally its reference answer. */
export interface LcSample {
  id?: string;
  prompt: string;
  images: readonly RawImage[];
  /** Needed by `aggregation: 'all'`; ignored otherwise. */
  answer?: string;
}

export interface LcProgress {
  /** 0-based position of the sample being measured, in measuring order. */
  sample: number;
  samples: number;
  /** The ablated layer, or null for the clean pass. */
  layer: number | null;
  layers: number;
  /** `clean`: the sample's clean pass is done; `layer`: both ablations of `layer` are done. */
  phase: 'clean' | 'layer';
}

export interface LcOptions {
  direction?: KlDirection;
  aggregation?: AnswerAggregation;
  schedule?: LcSchedule;
  /**
   * Measure only this many samples, picked by a seeded shuffle (`seed`) and kept in their given order.
   * Default: all of them, in the given order.
   */
  limit?: number;
  /** Seed of the sample pick (default 0); recorded in the calibration provenance. */
  seed?: number;
  /**
   * Most batch rows one layer run of the prefix schedule takes (even; default 8): each ablated layer
   * adds two rows. 2 runs each layer's two ablations on their own; more rows mean fewer, larger runs
   * (faster) and more memory (rows x prompt length x hidden size, plus attention scores).
   */
  maxBatch?: number;
  /** Keep each sample's values in `perSample`. */
  perSample?: boolean;
  /** Name of the calibration data, for the provenance a plan records. Default `custom`. */
  dataset?: string;
  /** Tool and version recorded in the provenance. Default `@shortv/lc`. */
  createdWith?: string;
  onProgress?: (progress: LcProgress) => void;
  /**
   * Called (and awaited) with each sample's values as soon as the sample is measured, in measuring
   * order: what a caller keeps to resume an interrupted run through `completed`.
   */
  onSample?: (result: LcSampleResult, position: number) => void | Promise<void>;
  /**
   * Values of the first samples in measuring order, from an earlier run with the same samples,
   * model and options: they are used as they are and those samples are not measured again, so the
   * result equals that of one uninterrupted run.
   */
  completed?: readonly LcSampleResult[];
  /** Aborting makes `layerContribution` throw `E_ABORTED`; no partial result is returned. */
  signal?: AbortSignal;
}

/** The engine parts LC uses (a `VlmEngine` fits). */
export type LcEngine = Pick<VlmEngine, 'preparePrompt' | 'layerwise' | 'config' | 'fingerprint'>;

/** LC was stopped through its AbortSignal. */
export class LcAbortedError extends ShortvError {
  constructor() {
    super('E_ABORTED', 'Layer Contribution measurement was aborted; nothing was returned');
    this.name = 'LcAbortedError';
  }
}

const DEFAULT_MAX_BATCH = 8;
const DIRECTIONS: readonly KlDirection[] = ['mod||orig', 'orig||mod'];
const AGGREGATIONS: readonly AnswerAggregation[] = ['first', 'all'];
const SCHEDULES: readonly LcSchedule[] = ['prefix', 'naive'];

function oneOf<T extends string>(value: T | undefined, allowed: readonly T[], name: string): T {
  const v = value ?? allowed[0]!;
  if (!allowed.includes(v)) {
    throw new ShortvError(
      'E_INPUT_OPTION',
      `${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}; got '${v}'`,
    );
  }
  return v;
}

/** The metric name a plan records: KL direction and the positions compared. */
export function lcMetricName(direction: KlDirection, aggregation: AnswerAggregation): string {
  const kl = direction === 'mod||orig' ? 'kl(p_mod||p)' : 'kl(p||p_mod)';
  return `${kl}@answer[${aggregation === 'first' ? '0' : 'all'}]`;
}

/** Indices of the samples to measure: all, or `limit` of them picked by a seeded Fisher-Yates shuffle. */
function pickSamples(count: number, limit: number | undefined, seed: number): number[] {
  const all = Array.from({ length: count }, (_, i) => i);
  if (limit === undefined || limit >= count) return all;
  const random = createRandom(seed);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, limit).sort((a, b) => a - b);
}

function checkOptions(samples: readonly LcSample[], options: LcOptions) {
  if (samples.length === 0) {
    throw new ShortvError('E_INPUT_SAMPLES', 'no calibration samples were given; LC needs at least one');
  }
  const { limit, seed = 0 } = options;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new ShortvError('E_INPUT_OPTION', `limit must be an integer >= 1; got ${limit}`);
  }
  const { maxBatch = DEFAULT_MAX_BATCH } = options;
  if (!Number.isInteger(maxBatch) || maxBatch < 2) {
    throw new ShortvError(
      'E_INPUT_OPTION',
      `maxBatch must be an integer >= 2 (two ablations per layer); got ${maxBatch}`,
    );
  }
  if (!Number.isSafeInteger(seed)) {
    throw new ShortvError('E_INPUT_OPTION', `seed must be an integer; got ${seed}`);
  }
  samples.forEach((s, i) => {
    if (s.images.length === 0) {
      throw new ShortvError(
        'E_INPUT_SAMPLE',
        `calibration sample ${s.id ?? i} has no image; visual Layer Contribution needs image samples`,
      );
    }
  });
  return {
    direction: oneOf(options.direction, DIRECTIONS, 'direction'),
    aggregation: oneOf(options.aggregation, AGGREGATIONS, 'aggregation'),
    schedule: oneOf(options.schedule, SCHEDULES, 'schedule'),
    seed,
    maxBatch,
  };
}

/** Per-row update masks of the two ablations: visual rows off, then every other row off. */
function groupMasks(sequence: PreparedSequence): { visual: Float32Array; text: Float32Array } {
  return {
    visual: Float32Array.from(sequence.visual, (v) => (v ? 0 : 1)),
    text: Float32Array.from(sequence.visual, (v) => (v ? 1 : 0)),
  };
}

/** Mean over the scored rows of KL between batch row `b` of `ablated` [B, K, V] and `clean` [1, K, V]. */
function meanKl(
  ablated: Tensor<'float32'>,
  b: number,
  clean: Tensor<'float32'>,
  direction: KlDirection,
): number {
  const [, K, V] = ablated.dims as [number, number, number];
  let sum = 0;
  for (let k = 0; k < K; k++) {
    const mod = ablated.data.subarray((b * K + k) * V, (b * K + k + 1) * V);
    const orig = clean.data.subarray(k * V, (k + 1) * V);
    sum += direction === 'mod||orig' ? klDivergenceFromLogits(mod, orig) : klDivergenceFromLogits(orig, mod);
  }
  return sum / K;
}

interface SampleRun {
  runner: LayerwiseRunner;
  sequence: PreparedSequence;
  rows: readonly number[];
  direction: KlDirection;
  signal: AbortSignal | undefined;
  maxBatch: number;
  progress: (layer: number | null) => void;
}

/**
 * Clean pass once, keeping every layer's input; then the ablations in waves. A wave takes up to
 * `maxBatch / 2` consecutive start layers and sweeps the layers once: at each start layer l of the wave
 * the visual and the text ablation join the batch as two rows copied from the clean input of layer l
 * (masked in layer l only), and rows that joined earlier go on through the later layers unmasked.
 * Layers before a row's start layer are never recomputed. With `maxBatch` 2 every wave is one layer:
 * one batched run of 2 rows from each layer's clean input.
 */
async function prefixSample(run: SampleRun): Promise<{ visual: number[]; text: number[] }> {
  const { runner, sequence, rows, direction, signal, maxBatch } = run;
  const { seq, hiddenSize: d } = sequence;
  const L = runner.numLayers;
  const clean = await runner.cleanPass(sequence, { rows, signal });
  run.progress(null);
  const masks = groupMasks(sequence);
  const visual: number[] = [];
  const text: number[] = [];
  const perWave = Math.max(1, Math.floor(maxBatch / 2));
  for (let first = 0; first < L; first += perWave) {
    const end = Math.min(L, first + perWave);
    let state: Float32Array = new Float32Array(0);
    let batch = 0;
    for (let layer = first; layer < L; layer++) {
      let layerMasks: Map<number, Float32Array> | undefined;
      if (layer < end) {
        // Two new rows from the clean input of this layer: visual rows masked, then text rows masked.
        const grown = new Float32Array((batch + 2) * seq * d);
        grown.set(state, 0);
        grown.set(clean.layerInputs[layer]!, batch * seq * d);
        grown.set(clean.layerInputs[layer]!, (batch + 1) * seq * d);
        const mask = new Float32Array((batch + 2) * seq).fill(1);
        mask.set(masks.visual, batch * seq);
        mask.set(masks.text, (batch + 1) * seq);
        layerMasks = new Map([[layer, mask]]);
        state = grown;
        batch += 2;
      }
      const hidden = new Tensor('float32', state, [batch, seq, d]);
      const out = await runner.runLayers(layer, layer + 1, hidden, {
        ...(layerMasks ? { masks: layerMasks } : {}),
        signal,
      });
      state = out.data;
    }
    const logits = await runner.logitsAt(new Tensor('float32', state, [batch, seq, d]), rows);
    for (let k = 0; k < end - first; k++) {
      visual.push(meanKl(logits, 2 * k, clean.logits, direction));
      text.push(meanKl(logits, 2 * k + 1, clean.logits, direction));
      run.progress(first + k);
    }
  }
  return { visual, text };
}

/**
 * The plain schedule, as the reference measures one group: a clean full forward pass and one full pass
 * per ablated layer, through the whole masked decoder; done for the visual, then the text group.
 */
async function naiveSample(run: SampleRun): Promise<{ visual: number[]; text: number[] }> {
  const { runner, sequence, rows, direction, signal } = run;
  const embeds = new Tensor('float32', sequence.embeds, [1, sequence.seq, sequence.hiddenSize]);
  const masks = groupMasks(sequence);
  const values = { visual: [] as number[], text: [] as number[] };
  for (const group of ['visual', 'text'] as const) {
    const clean = await runner.runFull(embeds, { rows, signal });
    if (group === 'visual') run.progress(null);
    for (let l = 0; l < runner.numLayers; l++) {
      const logits = await runner.runFull(embeds, { masks: new Map([[l, masks[group]]]), rows, signal });
      values[group].push(meanKl(logits, 0, clean, direction));
      if (group === 'text') run.progress(l);
    }
  }
  return values;
}

/** Earlier results must be the first samples of this run's measuring order, one value per layer. */
function checkCompleted(
  completed: readonly LcSampleResult[],
  picked: readonly number[],
  samples: readonly LcSample[],
  L: number,
): readonly LcSampleResult[] {
  if (completed.length > picked.length) {
    throw new ShortvError(
      'E_INPUT_RESUME',
      `${completed.length} earlier sample results were given but this run measures ${picked.length} samples`,
    );
  }
  completed.forEach((result, position) => {
    const index = picked[position]!;
    const id = samples[index]!.id;
    const finite = (values: readonly number[]) =>
      values.length === L && values.every((v) => Number.isFinite(v) && v >= 0);
    if (result.index !== index || (id !== undefined && result.id !== id)) {
      throw new ShortvError(
        'E_INPUT_RESUME',
        `earlier result ${position} is of sample ${result.id ?? result.index}, but this run measures ${id ?? index} there: the samples or the seed changed`,
      );
    }
    if (
      !finite(result.visual) ||
      !finite(result.text) ||
      !Number.isInteger(result.visualTokens) ||
      !Number.isInteger(result.textTokens)
    ) {
      throw new ShortvError(
        'E_INPUT_RESUME',
        `earlier result ${position} (sample ${id ?? index}) does not hold ${L} LC values per group and its token counts`,
      );
    }
  });
  return completed;
}

/**
 * Layer Contribution (ShortV): for each decoder layer l and token group G (visual rows; text = every
 * other row, BOS and chat-template rows included, and teacher-forced answer rows under
 * `aggregation: 'all'`), layer l's residual updates of G's rows are zeroed (update mask 0 on G in layer l
 * only; G's keys and values are still computed from its unchanged inputs) and the next-token
 * distribution is compared with the clean one over the whole vocabulary:
 * LC_G(l) = KL(P_l || P) at the last prompt position, averaged over samples.
 *
 * Samples are measured in the given order (or a seeded pick of `limit` of them), so the same data and
 * options give the same numbers. Either the whole result is returned or an error is thrown.
 */
export async function layerContribution(
  engine: LcEngine,
  samples: readonly LcSample[],
  options: LcOptions = {},
): Promise<LcResult> {
  const { direction, aggregation, schedule, seed, maxBatch } = checkOptions(samples, options);
  const start = performance.now();
  const { signal } = options;
  const runner = engine.layerwise();
  const L = runner.numLayers;
  const picked = pickSamples(samples.length, options.limit, seed);
  const sums = { visual: new Float64Array(L), text: new Float64Array(L) };
  const tokenSums = { visual: 0, text: 0 };
  const perSample: LcSampleResult[] = [];
  const measure = schedule === 'prefix' ? prefixSample : naiveSample;
  const completed = checkCompleted(options.completed ?? [], picked, samples, L);
  const add = (result: LcSampleResult) => {
    for (let l = 0; l < L; l++) {
      sums.visual[l]! += result.visual[l]!;
      sums.text[l]! += result.text[l]!;
    }
    tokenSums.visual += result.visualTokens;
    tokenSums.text += result.textTokens;
    if (options.perSample) perSample.push(result);
  };
  for (const result of completed) add(result);
  try {
    for (const [position, index] of picked.entries()) {
      if (position < completed.length) continue;
      if (signal?.aborted) throw new LcAbortedError();
      const sample = samples[index]!;
      const sequence = await engine.preparePrompt({
        prompt: sample.prompt,
        images: sample.images,
        ...(aggregation === 'all' && sample.answer !== undefined ? { answer: sample.answer } : {}),
      });
      const visualRows = sequence.visual.slice(0, sequence.promptRows).filter(Boolean).length;
      const values = await measure({
        runner,
        sequence,
        rows: sequence.scoreRows,
        direction,
        signal,
        maxBatch,
        progress: (layer) => {
          // No event after an abort: the caller sees the run stop where it aborted it.
          if (signal?.aborted) throw new LcAbortedError();
          options.onProgress?.({
            sample: position,
            samples: picked.length,
            layer,
            layers: L,
            phase: layer === null ? 'clean' : 'layer',
          });
        },
      });
      const result: LcSampleResult = {
        index,
        ...(sample.id ? { id: sample.id } : {}),
        ...values,
        visualTokens: visualRows,
        textTokens: sequence.promptRows - visualRows,
      };
      add(result);
      await options.onSample?.(result, position);
    }
  } catch (error) {
    if (signal?.aborted) throw new LcAbortedError();
    throw error;
  }
  if (signal?.aborted) throw new LcAbortedError();
  const n = picked.length;
  const t = engine.config.text;
  return {
    visual: Array.from(sums.visual, (s) => s / n),
    text: Array.from(sums.text, (s) => s / n),
    ...(options.perSample ? { perSample } : {}),
    samples: n,
    seconds: (performance.now() - start) / 1000,
    metric: lcMetricName(direction, aggregation),
    direction,
    aggregation,
    schedule,
    model: { architecture: 'llava', numLayers: L, hiddenSize: t.hiddenSize, fingerprint: engine.fingerprint },
    dims: {
      hiddenSize: t.hiddenSize,
      intermediateSize: t.intermediateSize,
      numLayers: L,
      numHeads: t.numHeads,
      numKvHeads: t.numKvHeads,
      headDim: t.headDim,
    },
    tokens: { visualTokens: Math.round(tokenSums.visual / n), textTokens: Math.round(tokenSums.text / n) },
    calibration: {
      dataset: options.dataset ?? 'custom',
      samples: n,
      seed,
      createdWith: options.createdWith ?? '@shortv/lc',
    },
  };
}
