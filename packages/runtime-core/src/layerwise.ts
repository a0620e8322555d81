import {
  emitDecoderLayerGraph,
  emitHeadGraph,
  type LlavaConfig,
  pastKeyName,
  pastValueName,
  type WeightMap,
} from '@shortv/models';
import { ShortvError, Tensor } from '@shortv/tensor';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';
import { GenerationAbortedError } from './errors.ts';
import type { RuntimePlatform, SessionOptions } from './platform.ts';
import { openDecoderSession, openGraphSession } from './sessions.ts';
import type { TextTokenizer } from './tokenizer.ts';

/**
 * One prompt ready for the decoder, row by row: what a layer-by-layer pass (Layer Contribution) feeds
 * to layer 0. With a reference answer, its tokens follow the prompt (teacher forcing) so the
 * distribution of every answer token can be read in one pass.
 */
export interface PreparedSequence {
  /** Rows fed to the decoder: prompt rows (image features merged in), then answer rows. */
  readonly seq: number;
  readonly hiddenSize: number;
  /** [seq * hiddenSize] decoder input rows. */
  readonly embeds: Float32Array;
  /** Per row: true for an image feature row. */
  readonly visual: readonly boolean[];
  /** Rows of the prompt alone (its last row predicts the first answer token). */
  readonly promptRows: number;
  /** Token ids of the reference answer (without end-of-sequence tokens); empty without an answer. */
  readonly answerIds: readonly number[];
  /**
   * Rows whose next-token distribution predicts answer token k (k = 0, 1, ...): `promptRows - 1 + k`.
   * Without an answer, only the last prompt row.
   */
  readonly scoreRows: readonly number[];
}

/**
 * Ids of a reference answer as the chat template writes the assistant turn after a user turn: the
 * template's text after the user turn (with its generation prompt) is tokenized on its own, as LLaVA's
 * training tokenizes each turn. End-of-sequence tokens are dropped: they are not part of the answer.
 * The assistant text does not depend on the user's words, so `question` only needs to be a valid turn.
 */
export function answerTokenIds(
  tokenizer: TextTokenizer,
  answer: string,
  eosTokenIds: readonly number[],
  question = 'question',
): number[] {
  if (answer.trim().length === 0) {
    throw new ShortvError('E_INPUT_ANSWER', 'the reference answer is empty: give its text, or leave it out');
  }
  const user = { role: 'user', content: question } as const;
  const asked = tokenizer.applyChatTemplate([user], { addGenerationPrompt: true });
  const answered = tokenizer.applyChatTemplate([user, { role: 'assistant', content: answer }], {
    addGenerationPrompt: false,
  });
  const suffix = answered.startsWith(asked) ? answered.slice(asked.length) : ` ${answer}`;
  const ids = tokenizer.encode(suffix, { addSpecialTokens: false });
  const eos = new Set(eosTokenIds);
  while (ids.length > 0 && eos.has(ids[ids.length - 1]!)) ids.pop();
  if (ids.length === 0) {
    throw new ShortvError(
      'E_INPUT_ANSWER',
      `the reference answer "${answer}" tokenizes to no tokens after the prompt; check the chat template`,
    );
  }
  return ids;
}

/** The clean (unablated) forward pass of one sequence, kept layer by layer. */
export interface CleanPass {
  /** L entries of [seq * hiddenSize]: entry l is the input of layer l. */
  readonly layerInputs: readonly Float32Array[];
  /** [1, K, V] logits at the requested rows. */
  readonly logits: Tensor<'float32'>;
}

export interface LayerRunOptions {
  /**
   * Per layer, the residual-update mask [B * S] (1 = update as usual, 0 = the row keeps its input).
   * Layers not listed run dense (an all-ones mask).
   */
  readonly masks?: ReadonlyMap<number, Float32Array>;
  /** Rows to read logits at (default: the last row), the same for every batch row. */
  readonly rows?: readonly number[];
  readonly signal?: AbortSignal;
}

function checkRows(rows: readonly number[], seq: number): void {
  if (rows.length === 0 || rows.some((r) => !Number.isInteger(r) || r < 0 || r >= seq)) {
    throw new ShortvError(
      'E_INPUT_ROWS',
      `logit rows must be a non-empty list of row indices in [0, ${seq}); got ${rows.join(', ')}`,
    );
  }
}

/**
 * Per-layer decoder sessions (masked form: an all-ones mask is the dense layer) and the LM head, built
 * on first use through the platform's graph cache, plus the whole masked decoder for full-pass checks.
 * Every call runs one sequence replicated over B batch rows, from position 0 with no KV cache, so
 * several ablations of the same prompt run side by side.
 */
export class LayerwiseRunner {
  private readonly sessions = new Map<string, Promise<InferenceSession>>();
  private shared:
    | { batch: number; seq: number; positions: OrtTensor; attention: OrtTensor; empty: OrtTensor }
    | undefined;

  constructor(
    private readonly platform: RuntimePlatform,
    private readonly fingerprint: string,
    readonly config: LlavaConfig,
    private readonly weights: WeightMap,
    private readonly sessionOptions: SessionOptions = {},
  ) {}

  get numLayers(): number {
    return this.config.text.numLayers;
  }

  get hiddenSize(): number {
    return this.config.text.hiddenSize;
  }

  get vocabSize(): number {
    return this.config.text.vocabSize;
  }

  /** A session opened once and shared; a failed open is forgotten so the next call tries again. */
  private cached(key: string, build: () => Promise<InferenceSession>): Promise<InferenceSession> {
    let session = this.sessions.get(key);
    if (!session) {
      session = build();
      this.sessions.set(key, session);
      const opening = session;
      opening.catch(() => {
        if (this.sessions.get(key) === opening) this.sessions.delete(key);
      });
    }
    return session;
  }

  private layerSession(layer: number): Promise<InferenceSession> {
    const name = `layer-${layer}-masked`;
    return this.cached(name, () =>
      openGraphSession(
        this.platform,
        this.fingerprint,
        name,
        () => emitDecoderLayerGraph(this.config, this.weights, layer, 'masked'),
        this.sessionOptions,
      ),
    );
  }

  private headSession(): Promise<InferenceSession> {
    return this.cached('head', () =>
      openGraphSession(
        this.platform,
        this.fingerprint,
        'head',
        () => emitHeadGraph(this.config, this.weights),
        this.sessionOptions,
      ),
    );
  }

  private decoderSession(): Promise<InferenceSession> {
    return this.cached('decoder', () =>
      openDecoderSession(
        this.platform,
        this.fingerprint,
        this.config,
        this.weights,
        { kind: 'masked' },
        this.sessionOptions,
      ),
    );
  }

  /** Builds every per-layer session and the head now, so later timings leave graph building out. */
  async warmUp(): Promise<void> {
    await Promise.all([
      ...Array.from({ length: this.numLayers }, (_, l) => this.layerSession(l)),
      this.headSession(),
    ]);
  }

  private int64(values: ArrayLike<number>, dims: number[]): OrtTensor {
    return this.platform.createTensor(
      'int64',
      BigInt64Array.from(values as number[], (v) => BigInt(v)),
      dims,
    );
  }

  /** Inputs every call shares: positions 0..S-1, no padding, an empty cache for the given layers. */
  private callFeeds(batch: number, seq: number, layers: readonly number[]): Record<string, OrtTensor> {
    // Built once per shape: a sweep over the layers feeds the same tensors to every layer.
    if (this.shared?.batch !== batch || this.shared.seq !== seq) {
      const t = this.config.text;
      const positions = new BigInt64Array(batch * seq);
      for (let b = 0; b < batch; b++) for (let s = 0; s < seq; s++) positions[b * seq + s] = BigInt(s);
      this.shared = {
        batch,
        seq,
        positions: this.platform.createTensor('int64', positions, [batch, seq]),
        attention: this.platform.createTensor('int64', new BigInt64Array(batch * seq).fill(1n), [batch, seq]),
        empty: this.platform.createTensor('float32', new Float32Array(0), [
          batch,
          t.numKvHeads,
          0,
          t.headDim,
        ]),
      };
    }
    const { positions, attention, empty } = this.shared;
    const feeds: Record<string, OrtTensor> = { position_ids: positions, attention_mask: attention };
    for (const l of layers) {
      feeds[pastKeyName(l)] = empty;
      feeds[pastValueName(l)] = empty;
    }
    return feeds;
  }

  private checkHidden(hidden: Tensor<'float32'>): [number, number] {
    const [batch, seq, d] = hidden.dims as [number, number, number];
    if (hidden.rank !== 3 || d !== this.hiddenSize || batch < 1 || seq < 1) {
      throw new ShortvError(
        'E_INPUT_SHAPE',
        `hidden states must be [batch, seq, ${this.hiddenSize}] with batch, seq >= 1; got [${hidden.dims}]`,
      );
    }
    return [batch, seq];
  }

  private checkMasks(masks: ReadonlyMap<number, Float32Array>, from: number, to: number, size: number): void {
    for (const [layer, mask] of masks) {
      if (!Number.isInteger(layer) || layer < from || layer >= to) {
        throw new ShortvError(
          'E_INPUT_MASK',
          `an update mask is given for layer ${layer}, but this run covers layers ${from}..${to - 1}`,
        );
      }
      if (mask.length !== size) {
        throw new ShortvError(
          'E_INPUT_MASK',
          `the update mask of layer ${layer} has ${mask.length} values; expected batch * seq = ${size}`,
        );
      }
    }
  }

  private async layerStep(
    layer: number,
    hidden: OrtTensor,
    shared: Record<string, OrtTensor>,
    mask: OrtTensor,
  ): Promise<OrtTensor> {
    const session = await this.layerSession(layer);
    // Only the hidden states: the cache outputs would be copied out for nothing.
    const out = await session.run({ ...shared, hidden_states: hidden, update_mask: mask }, [
      'hidden_states_out',
    ]);
    return out.hidden_states_out!;
  }

  private async runHead(
    hidden: OrtTensor,
    batch: number,
    rows: readonly number[],
  ): Promise<Tensor<'float32'>> {
    const index = new Array<number>(batch * rows.length);
    for (let b = 0; b < batch; b++)
      for (let k = 0; k < rows.length; k++) index[b * rows.length + k] = rows[k]!;
    const head = await this.headSession();
    const out = await head.run({
      hidden_states: hidden,
      logits_index: this.int64(index, [batch, rows.length]),
    });
    return new Tensor('float32', out.logits!.data as Float32Array, [batch, rows.length, this.vocabSize]);
  }

  /** The dense pass of one sequence: every layer's input and the logits at `rows` (default: the last row). */
  async cleanPass(
    sequence: Pick<PreparedSequence, 'embeds' | 'seq'>,
    options: { rows?: readonly number[]; signal?: AbortSignal } = {},
  ): Promise<CleanPass> {
    const { seq } = sequence;
    const hidden = new Tensor('float32', sequence.embeds, [1, seq, this.hiddenSize]);
    this.checkHidden(hidden);
    const rows = options.rows ?? [seq - 1];
    checkRows(rows, seq);
    const ones = this.platform.createTensor('float32', new Float32Array(seq).fill(1), [1, seq]);
    const layerInputs: Float32Array[] = [];
    let h = this.platform.createTensor('float32', sequence.embeds, [1, seq, this.hiddenSize]);
    for (let l = 0; l < this.numLayers; l++) {
      if (options.signal?.aborted) throw new GenerationAbortedError();
      layerInputs.push(h.data as Float32Array);
      h = await this.layerStep(l, h, this.callFeeds(1, seq, [l]), ones);
    }
    return { layerInputs, logits: await this.runHead(h, 1, rows) };
  }

  /**
   * Runs layers `from`..`to`-1 on `hidden` [B, S, d] (the input of layer `from` for each batch row), each
   * layer with its mask from `masks` or dense, and returns the output of layer `to`-1 [B, S, d].
   */
  async runLayers(
    from: number,
    to: number,
    hidden: Tensor<'float32'>,
    options: Pick<LayerRunOptions, 'masks' | 'signal'> = {},
  ): Promise<Tensor<'float32'>> {
    const L = this.numLayers;
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to > L || from > to) {
      throw new ShortvError(
        'E_INPUT_LAYER',
        `layers must be a range from <= to within [0, ${L}]; got ${from}..${to}`,
      );
    }
    const [batch, seq] = this.checkHidden(hidden);
    const masks = options.masks ?? new Map<number, Float32Array>();
    this.checkMasks(masks, from, to, batch * seq);
    const ones = this.platform.createTensor('float32', new Float32Array(batch * seq).fill(1), [batch, seq]);
    let h = this.platform.createTensor('float32', hidden.data, [batch, seq, this.hiddenSize]);
    for (let l = from; l < to; l++) {
      if (options.signal?.aborted) throw new GenerationAbortedError();
      const given = masks.get(l);
      const mask = given ? this.platform.createTensor('float32', given, [batch, seq]) : ones;
      h = await this.layerStep(l, h, this.callFeeds(batch, seq, [l]), mask);
    }
    return new Tensor('float32', h.data as Float32Array, [batch, seq, this.hiddenSize]);
  }

  /** Final norm + LM head: logits [B, K, V] at `rows` (default: the last row) of `hidden` [B, S, d]. */
  async logitsAt(hidden: Tensor<'float32'>, rows?: readonly number[]): Promise<Tensor<'float32'>> {
    const [batch, seq] = this.checkHidden(hidden);
    const picked = rows ?? [seq - 1];
    checkRows(picked, seq);
    return this.runHead(
      this.platform.createTensor('float32', hidden.data, [batch, seq, this.hiddenSize]),
      batch,
      picked,
    );
  }

  /**
   * Runs layers `layer`..L-1 on `hidden` [B, S, d] (the input of `layer` for each batch row), each layer
   * with its mask from `masks` or dense, and returns logits [B, K, V] at `rows` (default: the last row).
   * `layer` = L runs the head alone.
   */
  async runFrom(
    layer: number,
    hidden: Tensor<'float32'>,
    options: LayerRunOptions = {},
  ): Promise<Tensor<'float32'>> {
    const L = this.numLayers;
    if (!Number.isInteger(layer) || layer < 0 || layer > L) {
      throw new ShortvError('E_INPUT_LAYER', `the start layer must be an integer in [0, ${L}]; got ${layer}`);
    }
    const [batch, seq] = this.checkHidden(hidden);
    const rows = options.rows ?? [seq - 1];
    checkRows(rows, seq);
    const masks = options.masks ?? new Map<number, Float32Array>();
    this.checkMasks(masks, layer, L, batch * seq);
    const out = await this.runLayers(layer, L, hidden, options);
    if (options.signal?.aborted) throw new GenerationAbortedError();
    return this.logitsAt(out, rows);
  }

  /**
   * One pass of the whole masked decoder graph from the input rows `embeds` [B, S, d]: the plain
   * full-forward way to get the same logits as `runFrom(0, ...)`, kept to check the layer-by-layer path.
   */
  async runFull(embeds: Tensor<'float32'>, options: LayerRunOptions = {}): Promise<Tensor<'float32'>> {
    const [batch, seq] = this.checkHidden(embeds);
    const rows = options.rows ?? [seq - 1];
    checkRows(rows, seq);
    const masks = options.masks ?? new Map<number, Float32Array>();
    const L = this.numLayers;
    this.checkMasks(masks, 0, L, batch * seq);
    if (options.signal?.aborted) throw new GenerationAbortedError();
    const all = new Float32Array(L * batch * seq).fill(1);
    for (const [l, mask] of masks) all.set(mask, l * batch * seq);
    const index = new Array<number>(batch * rows.length);
    for (let b = 0; b < batch; b++)
      for (let k = 0; k < rows.length; k++) index[b * rows.length + k] = rows[k]!;
    const decoder = await this.decoderSession();
    const out = await decoder.run({
      ...this.callFeeds(
        batch,
        seq,
        Array.from({ length: L }, (_, l) => l),
      ),
      inputs_embeds: this.platform.createTensor('float32', embeds.data, [batch, seq, this.hiddenSize]),
      update_mask: this.platform.createTensor('float32', all, [L, batch, seq]),
      logits_index: this.int64(index, [batch, rows.length]),
    });
    return new Tensor('float32', out.logits!.data as Float32Array, [batch, rows.length, this.vocabSize]);
  }

  /** Releases every session opened so far; later calls open them again. */
  async release(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(
      sessions.map(async (s) => {
        const session = await s.catch(() => undefined);
        await session?.release();
      }),
    );
  }
}
