import {
  type DecoderForm,
  type LlavaConfig,
  type ModelFolder,
  mergeImageFeatures,
  openLlavaModel,
  type WeightMap,
} from '@shortv/models';
import { checkPlanForModel, type FreezePlan, keptVisualTokens, prefillFlops } from '@shortv/plan';
import { clipPreprocess, type RawImage, ShortvError, Tensor } from '@shortv/tensor';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';
import { StreamingDetokenizer } from './detokenize.ts';
import { GenerationAbortedError } from './errors.ts';
import { KvCache } from './kv-cache.ts';
import { answerTokenIds, LayerwiseRunner, type PreparedSequence } from './layerwise.ts';
import { type ModelFiles, readModelFiles } from './model-files.ts';
import { defaultPlatform, type RuntimePlatform, type SessionOptions } from './platform.ts';
import { buildPromptIds, type PromptIds } from './prompt.ts';
import { createSampler, type SamplingOptions, validateSampling } from './sampling.ts';
import { type ModelSessions, openDecoderSession, openModelSessions } from './sessions.ts';
import { type GenerationStats, now } from './stats.ts';
import { weightsDigest } from './weights-digest.ts';
import { externalWeightsOf, openWeightsFile, quantizationOf, type WeightFormat } from './weights-file.ts';

export interface EngineOptions {
  /** Defaults to the highest-priority registered platform (import @shortv/runtime-node or -web). */
  platform?: RuntimePlatform;
  session?: SessionOptions;
  /** A freeze plan to apply from the start (validated against the model). */
  plan?: FreezePlan | null;
  /**
   * How the decoder layers' Linear weights are held: 'fp32' (default), or block-quantized 'int4' / 'int8'
   * for ORT's MatMulNBits (needs a platform with a weights store, e.g. runtime-node with a cache directory).
   */
  weights?: WeightFormat;
}

export interface GenerationRequest {
  prompt: string;
  images?: readonly RawImage[];
  maxNewTokens?: number;
  sampling?: SamplingOptions;
  /** Extra strings that end the answer (not included in it). */
  stop?: readonly string[];
  signal?: AbortSignal;
  /** Receives the next-token logits at the last prompt row (a copy), right after prefill. */
  onPromptLogits?: (logits: Float32Array) => void;
}

export interface GenerationChunk {
  text: string;
  tokenId: number;
}

export interface GenerationResult {
  text: string;
  tokenIds: number[];
  stats: GenerationStats;
}

const DEFAULT_MAX_NEW_TOKENS = 64;

/** A plan's row drops must happen in order: FastV pruning strictly before VTW withdrawal makes it moot. */
function checkDrops(plan: FreezePlan | null): void {
  if (plan?.prune && plan.withdraw && plan.prune.afterLayer + 1 >= plan.withdraw.fromLayer) {
    throw new ShortvError(
      'E_PLAN_UNSUPPORTED',
      `the plan prunes after layer ${plan.prune.afterLayer} but withdraws visual tokens from layer ${plan.withdraw.fromLayer}: withdrawal would drop every pruned token anyway; remove prune, or withdraw from layer ${plan.prune.afterLayer + 2} or later`,
    );
  }
}

function frozenLayersOf(plan: FreezePlan | null): number[] {
  return plan
    ? plan.layers
        .filter((l) => l.visual === 'freeze')
        .map((l) => l.index)
        .sort((a, b) => a - b)
    : [];
}

/**
 * A loaded multimodal model: tokenizer, vision tower, embeddings and decoder sessions, with an optional
 * ShortV freeze plan. One engine serves concurrent requests; each request has its own KV cache.
 */
export class VlmEngine {
  private plan: FreezePlan | null = null;
  /** Requests running on each decoder session: a replaced session is released only when its last one ends. */
  private readonly inflight = new Map<InferenceSession, number>();
  /** Settles when the plan switch in progress (if any) has its new decoder open. */
  private switching: Promise<void> | null = null;
  private layerwiseRunner: LayerwiseRunner | undefined;

  private constructor(
    readonly files: ModelFiles,
    private readonly weights: WeightMap,
    private readonly platform: RuntimePlatform,
    private readonly sessionOptions: SessionOptions,
    private sessions: ModelSessions,
    /** Graph-cache key of this model: fingerprint + digest of the weight values. */
    private readonly graphKey: string,
  ) {}

  static async load(folder: ModelFolder, options: EngineOptions = {}): Promise<VlmEngine> {
    const platform = options.platform ?? defaultPlatform();
    if (!platform) {
      throw new ShortvError(
        'E_RUNTIME_NO_PLATFORM',
        'no runtime platform is registered: import "@shortv/runtime-node" (Node) or "@shortv/runtime-web" (browser) first',
      );
    }
    const files = await readModelFiles(folder);
    const plan = options.plan ?? null;
    if (plan) checkPlanForModel(plan, VlmEngine.identity(files));
    checkDrops(plan);
    const format = options.weights ?? 'fp32';
    quantizationOf(format);
    if (format !== 'fp32' && !platform.weightsStore) {
      throw new ShortvError(
        'E_RUNTIME_OPTION',
        `${format} weights are written once to a weights file, and the ${platform.name} platform has no weights store: give it a cache directory, or use fp32 weights`,
      );
    }
    const model = await openLlavaModel(folder);
    let weights: WeightMap;
    let sessionOptions: SessionOptions = options.session ?? {};
    let graphKey: string;
    try {
      if (platform.weightsStore) {
        // The weights live once in the store's file; every session (each plan, layerwise) maps it, and a
        // new plan only emits a graph that references it: nothing is read or copied again.
        const opened = await openWeightsFile(
          platform.weightsStore,
          folder,
          files.config,
          model.weights,
          files.fingerprint,
          format,
        );
        weights = externalWeightsOf(opened.file, quantizationOf(format));
        sessionOptions = { ...sessionOptions, weightsFile: opened.file };
        graphKey = `${files.fingerprint}|checkpoint:${opened.digest}|${opened.file.location}`;
      } else {
        // Without a store the graphs embed the weights, so they stay in memory for the next plan's graph.
        weights = await model.weights.readAll();
        graphKey = `${files.fingerprint}|weights:${weightsDigest(weights)}`;
      }
    } finally {
      await model.weights.close();
    }
    const sessions = await openModelSessions(
      platform,
      graphKey,
      files.config,
      weights,
      formOf(plan),
      sessionOptions,
    );
    const engine = new VlmEngine(files, weights, platform, sessionOptions, sessions, graphKey);
    engine.plan = plan;
    return engine;
  }

  /** The folder's config, tokenizer, processor and fingerprint, without opening any session. */
  static readFiles(folder: ModelFolder): Promise<ModelFiles> {
    return readModelFiles(folder);
  }

  private static identity(files: ModelFiles) {
    return {
      numLayers: files.config.text.numLayers,
      fingerprint: files.fingerprint,
      architecture: 'llava',
      hiddenSize: files.config.text.hiddenSize,
    };
  }

  get config(): LlavaConfig {
    return this.files.config;
  }

  get fingerprint(): string {
    return this.files.fingerprint;
  }

  get activePlan(): FreezePlan | null {
    return this.plan;
  }

  /**
   * Switches to a plan (or back to dense with null): only the decoder graph is rebuilt, and not even that
   * when the plan has the same graph form as the current one.
   */
  async setPlan(plan: FreezePlan | null): Promise<void> {
    if (plan) checkPlanForModel(plan, VlmEngine.identity(this.files));
    checkDrops(plan);
    while (this.switching) await this.switching;
    const form = formOf(plan);
    if (JSON.stringify(form) === JSON.stringify(formOf(this.plan))) {
      this.plan = plan;
      return;
    }
    const switched = this.switchDecoder(plan, form);
    this.switching = switched.then(
      () => undefined,
      () => undefined,
    );
    try {
      await switched;
    } finally {
      this.switching = null;
    }
  }

  /**
   * A session may hold its own copy of the weights (ORT prepacks them into the session). With no answer
   * streaming on the old decoder, it is released before the new one opens, so a switch never holds two
   * copies; should the new one fail to open, the old form is opened again and the engine stays usable.
   */
  private async switchDecoder(plan: FreezePlan | null, form: DecoderForm): Promise<void> {
    const open = (f: DecoderForm) =>
      openDecoderSession(
        this.platform,
        this.graphKey,
        this.files.config,
        this.weights,
        f,
        this.sessionOptions,
      );
    const old = this.sessions.decoder;
    if (this.inflight.get(old)) {
      // Answers still stream on the old session; `leave` releases it once they finish.
      this.sessions = { ...this.sessions, decoder: await open(form) };
      this.plan = plan;
      return;
    }
    await old.release();
    let decoder: InferenceSession;
    try {
      decoder = await open(form);
    } catch (error) {
      this.sessions = { ...this.sessions, decoder: await open(formOf(this.plan)) };
      throw error;
    }
    this.sessions = { ...this.sessions, decoder };
    this.plan = plan;
  }

  private async leave(session: InferenceSession): Promise<void> {
    const left = (this.inflight.get(session) ?? 1) - 1;
    if (left > 0) {
      this.inflight.set(session, left);
      return;
    }
    this.inflight.delete(session);
    if (session !== this.sessions.decoder) await session.release();
  }

  /** Streams the answer as text chunks; the final stats come with `run`. */
  async *generate(request: GenerationRequest): AsyncGenerator<GenerationChunk, GenerationResult> {
    const images = request.images ?? [];
    validateSampling(request.sampling ?? {});
    const maxNewTokens = request.maxNewTokens ?? this.files.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
    if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) {
      throw new ShortvError(
        'E_INPUT_MAX_TOKENS',
        `maxNewTokens must be an integer >= 1, got ${maxNewTokens}`,
      );
    }
    const checkAbort = () => {
      if (request.signal?.aborted) throw new GenerationAbortedError();
    };
    checkAbort();
    const config = this.files.config;
    const prompt = buildPromptIds(
      this.files.tokenizer,
      request.prompt,
      images.length,
      config.imageTokenIndex,
    );
    // A plan switch in progress may have released the current decoder: wait for its successor.
    while (this.switching) await this.switching;
    const decoder = this.sessions.decoder;
    const plan = this.plan;
    this.inflight.set(decoder, (this.inflight.get(decoder) ?? 0) + 1);
    try {
      return yield* this.generateOn(decoder, plan, request, prompt, images, maxNewTokens);
    } finally {
      await this.leave(decoder);
    }
  }

  private async *generateOn(
    decoder: InferenceSession,
    plan: FreezePlan | null,
    request: GenerationRequest,
    prompt: PromptIds,
    images: readonly RawImage[],
    maxNewTokens: number,
  ): AsyncGenerator<GenerationChunk, GenerationResult> {
    const checkAbort = () => {
      if (request.signal?.aborted) throw new GenerationAbortedError();
    };
    const config = this.files.config;
    const frozen = frozenLayersOf(plan);
    const drops = plan !== null && (plan.prune !== null || plan.withdraw !== null);

    const visionStart = now();
    const features = await this.imageFeatures(images);
    const visionMs = now() - visionStart;
    checkAbort();

    const tokenEmbeds = await this.embed(prompt.ids);
    const merged = features
      ? mergeImageFeatures(tokenEmbeds, features, prompt.imagePositions)
      : { embeds: tokenEmbeds, visual: prompt.ids.map(() => false), textIndex: prompt.ids.map((_, i) => i) };
    const seq = merged.visual.length;
    const visualTokens = merged.visual.filter(Boolean).length;
    // Positions past the model's context were never trained: refuse rather than answer from them, and
    // stop the answer where the context ends. Dynamic NTK RoPE exists to run past max_position_embeddings
    // (the trained length; transformers rescales the frequencies from there on), so such a model's
    // context is the length its factor stretches that to.
    const scaling = config.text.ropeScaling;
    const dynamic = scaling?.type === 'dynamic';
    const context = dynamic
      ? Math.floor(config.text.maxPositionEmbeddings * scaling.factor)
      : config.text.maxPositionEmbeddings;
    if (seq >= context) {
      const limit = dynamic ? 'max_position_embeddings x dynamic RoPE factor' : 'max_position_embeddings';
      throw new ShortvError(
        'E_INPUT_PROMPT_TOO_LONG',
        `the prompt is ${seq} tokens (${visualTokens} visual + ${seq - visualTokens} text) but the model's context (${limit}) is ${context} tokens, with room for the answer: shorten the prompt by at least ${seq - context + 1} tokens`,
      );
    }
    maxNewTokens = Math.min(maxNewTokens, context - seq);

    const t = config.text;
    const cache = new KvCache(this.platform, t.numLayers, t.numKvHeads, t.headDim);
    const sampler = createSampler(request.sampling ?? {});
    const detok = new StreamingDetokenizer(this.files.tokenizer);
    const eos = new Set(this.files.eosTokenIds);
    const stops = request.stop ?? [];

    const prefillStart = now();
    const visualRows = merged.visual.flatMap((v, i) => (v ? [i] : []));
    const prefill = await this.decodeStep(
      decoder,
      cache,
      merged.embeds.data,
      seq,
      0,
      frozen.length > 0 || drops ? merged.textIndex : null,
      drops
        ? { rows: visualRows, keep: plan.prune ? keptVisualTokens(plan.prune.keep, visualRows.length) : null }
        : null,
    );
    let logits = prefill.logits;
    request.onPromptLogits?.(logits.slice());
    const prefillMs = now() - prefillStart;

    const decodeStart = now();
    let stopReason: GenerationStats['stopReason'] = 'max-tokens';
    let emitted = '';
    for (let step = 0; step < maxNewTokens; step++) {
      checkAbort();
      const token = sampler(logits);
      if (eos.has(token)) {
        stopReason = 'eos';
        break;
      }
      const chunk = detok.push(token);
      const stopAt = stops.length ? firstStop(detok.text(), stops) : -1;
      if (stopAt >= 0) {
        const rest = detok.text().slice(0, stopAt).slice(emitted.length);
        if (rest) yield { text: rest, tokenId: token };
        emitted += rest;
        stopReason = 'stop-string';
        break;
      }
      if (chunk) {
        emitted += chunk;
        yield { text: chunk, tokenId: token };
      }
      if (step === maxNewTokens - 1) break;
      const embeds = await this.embed([token]);
      const stepOut = await this.decodeStep(
        decoder,
        cache,
        embeds.data,
        1,
        cache.pastLength,
        frozen.length > 0 || drops ? [0] : null,
        drops ? { rows: [], keep: plan.prune ? 0 : null } : null,
      );
      logits = stepOut.logits;
    }
    const decodeMs = now() - decodeStart;
    const tokenIds = [...detok.tokenIds];
    const text = stopReason === 'stop-string' ? emitted : detok.text();
    const flops = prefillFlops(
      {
        hiddenSize: t.hiddenSize,
        intermediateSize: t.intermediateSize,
        numLayers: t.numLayers,
        numHeads: t.numHeads,
        numKvHeads: t.numKvHeads,
        headDim: t.headDim,
      },
      { visualTokens, textTokens: seq - visualTokens },
      {
        layers: frozen.map((index) => ({ index })),
        prune: plan?.prune ?? null,
        withdraw: plan?.withdraw ?? null,
      },
    );
    return {
      text,
      tokenIds,
      stats: {
        promptTokens: seq,
        visualTokens,
        textTokens: seq - visualTokens,
        newTokens: tokenIds.length,
        visionMs,
        prefillMs,
        decodeMs,
        decodeTokensPerSecond: tokenIds.length > 0 && decodeMs > 0 ? (tokenIds.length / decodeMs) * 1000 : 0,
        flops: { dense: flops.dense, planned: flops.planned, ratio: flops.ratio },
        frozenLayers: [...frozen],
        ...(prefill.keptRows ? { keptRows: prefill.keptRows } : {}),
        stopReason,
      },
    };
  }

  /** Next-token logits at the last prompt row under the current plan: one prefill, no answer. */
  async promptLogits(request: {
    prompt: string;
    images?: readonly RawImage[];
    signal?: AbortSignal;
  }): Promise<Float32Array> {
    let captured: Float32Array | undefined;
    await this.run({
      ...request,
      maxNewTokens: 1,
      sampling: { temperature: 0 },
      onPromptLogits: (logits) => {
        captured = logits;
      },
    });
    return captured!;
  }

  /** Runs a request to the end and returns the whole answer with its stats. */
  async run(request: GenerationRequest): Promise<GenerationResult> {
    const iterator = this.generate(request);
    for (;;) {
      const next = await iterator.next();
      if (next.done) return next.value;
    }
  }

  /**
   * Decoder input rows of a prompt (image features merged in) and, with `answer`, the reference answer's
   * tokens appended for teacher forcing: the input of a layer-by-layer pass.
   */
  async preparePrompt(request: {
    prompt: string;
    images?: readonly RawImage[];
    answer?: string;
  }): Promise<PreparedSequence> {
    const images = request.images ?? [];
    const config = this.files.config;
    const prompt = buildPromptIds(
      this.files.tokenizer,
      request.prompt,
      images.length,
      config.imageTokenIndex,
    );
    const answerIds =
      request.answer === undefined
        ? []
        : answerTokenIds(this.files.tokenizer, request.answer, this.files.eosTokenIds, request.prompt);
    // The last answer token is only predicted, never fed.
    const tokenEmbeds = await this.embed([...prompt.ids, ...answerIds.slice(0, -1)]);
    const features = await this.imageFeatures(images);
    let embeds = tokenEmbeds.data;
    let visual = new Array<boolean>(tokenEmbeds.dims[0]!).fill(false);
    if (features) {
      const merged = mergeImageFeatures(tokenEmbeds, features, prompt.imagePositions);
      embeds = merged.embeds.data;
      visual = [...merged.visual];
    }
    const seq = visual.length;
    const promptRows = seq - Math.max(answerIds.length - 1, 0);
    return {
      seq,
      hiddenSize: config.text.hiddenSize,
      embeds,
      visual,
      promptRows,
      answerIds,
      scoreRows: Array.from({ length: Math.max(answerIds.length, 1) }, (_, k) => promptRows - 1 + k),
    };
  }

  /** Per-layer decoder sessions for layer-by-layer passes (Layer Contribution), opened on first use. */
  layerwise(): LayerwiseRunner {
    this.layerwiseRunner ??= new LayerwiseRunner(
      this.platform,
      this.graphKey,
      this.files.config,
      this.weights,
      this.sessionOptions,
    );
    return this.layerwiseRunner;
  }

  async dispose(): Promise<void> {
    await this.layerwiseRunner?.release();
    await Promise.all([
      this.sessions.vision.release(),
      this.sessions.embed.release(),
      this.sessions.decoder.release(),
    ]);
  }

  private tensor(type: 'float32', data: Float32Array, dims: number[]): OrtTensor;
  private tensor(type: 'int64', data: BigInt64Array, dims: number[]): OrtTensor;
  private tensor(type: 'float32' | 'int64', data: Float32Array | BigInt64Array, dims: number[]): OrtTensor {
    return type === 'float32'
      ? this.platform.createTensor('float32', data as Float32Array, dims)
      : this.platform.createTensor('int64', data as BigInt64Array, dims);
  }

  private async imageFeatures(images: readonly RawImage[]): Promise<Tensor<'float32'> | null> {
    if (images.length === 0) return null;
    const rows: Float32Array[] = [];
    let dims: readonly number[] = [];
    for (const image of images) {
      const pixels = clipPreprocess(image, this.files.processor);
      const out = await this.sessions.vision.run({
        pixel_values: this.tensor('float32', pixels.data, [...pixels.dims]),
      });
      const features = out.image_features!;
      dims = features.dims;
      rows.push(features.data as Float32Array);
    }
    const [, nv, d] = dims as [number, number, number];
    const all = new Float32Array(images.length * nv * d);
    rows.forEach((r, i) => {
      all.set(r, i * nv * d);
    });
    return new Tensor('float32', all, [images.length, nv, d]);
  }

  private async embed(ids: readonly number[]): Promise<Tensor<'float32'>> {
    const out = await this.sessions.embed.run({
      input_ids: this.tensor(
        'int64',
        BigInt64Array.from(ids, (id) => BigInt(id)),
        [1, ids.length],
      ),
    });
    const e = out.inputs_embeds!;
    return new Tensor('float32', e.data as Float32Array, [ids.length, this.files.config.text.hiddenSize]);
  }

  private async decodeStep(
    decoder: InferenceSession,
    cache: KvCache,
    embeds: Float32Array,
    seq: number,
    past: number,
    textIndex: readonly number[] | null,
    visual: { rows: readonly number[]; keep: number | null } | null,
  ): Promise<{ logits: Float32Array; keptRows: number[] | null }> {
    const d = this.files.config.text.hiddenSize;
    const feeds: Record<string, OrtTensor> = {
      ...cache.feeds(),
      inputs_embeds: this.tensor('float32', embeds, [1, seq, d]),
      position_ids: this.tensor(
        'int64',
        BigInt64Array.from({ length: seq }, (_, i) => BigInt(past + i)),
        [1, seq],
      ),
      attention_mask: this.tensor('int64', new BigInt64Array(past + seq).fill(1n), [1, past + seq]),
      logits_index: this.tensor('int64', BigInt64Array.from([BigInt(seq - 1)]), [1, 1]),
    };
    if (textIndex) {
      feeds.text_index = this.tensor(
        'int64',
        BigInt64Array.from(textIndex, (i) => BigInt(i)),
        [1, textIndex.length],
      );
    }
    if (visual) {
      feeds.visual_index = this.tensor(
        'int64',
        BigInt64Array.from(visual.rows, (i) => BigInt(i)),
        [1, visual.rows.length],
      );
      if (visual.keep !== null) {
        feeds.visual_keep = this.tensor('int64', BigInt64Array.of(BigInt(visual.keep)), [1]);
      }
    }
    const out = await decoder.run(feeds);
    cache.update(out);
    const kept = out.kept_rows;
    return {
      logits: out.logits!.data as Float32Array,
      keptRows: kept ? Array.from(kept.data as BigInt64Array, Number) : null,
    };
  }
}

function formOf(plan: FreezePlan | null): DecoderForm {
  const frozen = frozenLayersOf(plan);
  if (plan && (plan.prune || plan.withdraw)) {
    return { kind: 'pruned', frozenLayers: frozen, prune: plan.prune, withdraw: plan.withdraw };
  }
  return frozen.length > 0 ? { kind: 'shortv', frozenLayers: frozen } : { kind: 'dense' };
}

function firstStop(text: string, stops: readonly string[]): number {
  let best = -1;
  for (const s of stops) {
    const at = s ? text.indexOf(s) : -1;
    if (at >= 0 && (best < 0 || at < best)) best = at;
  }
  return best;
}
