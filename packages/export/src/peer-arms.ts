import type { FreezePlan } from '@shortv/plan';
import { VlmEngine } from '@shortv/runtime-core';
import { decodeImageFile, nodeModelFolder, nodePlatform } from '@shortv/runtime-node';

/** One question about one image file. */
export interface PeerPrompt {
  readonly image: string;
  readonly question: string;
}

export interface ArmResult {
  /** The decoder pass over the whole prompt (vision and embeddings excluded). */
  readonly prefillMs: number;
  /** Decode steps per second after the first answer token. */
  readonly decodePerSecond: number;
  readonly tokens: readonly number[];
}

/** One way of answering: a stack and a form, loaded once and measured prompt by prompt. */
export interface Arm {
  readonly name: string;
  measure(prompt: PeerPrompt): Promise<ArmResult>;
  dispose(): Promise<void>;
}

export interface ArmSettings {
  readonly threads: number;
  readonly newTokens: number;
  /** Graph cache and weights file for our engine (what a real-size model needs to load in reasonable time). */
  readonly cacheDir?: string;
  /**
   * Let ORT prepack our sessions' weights (a copy per session, as transformers.js' sessions always do) instead
   * of sharing the mapped weights file; only matters with `cacheDir`.
   */
  readonly prepackWeights?: boolean | 'auto';
}

const now = () => performance.now();

export async function ourArm(
  name: string,
  modelDir: string,
  plan: FreezePlan | null,
  settings: ArmSettings,
): Promise<Arm> {
  const engine = await VlmEngine.load(nodeModelFolder(modelDir), {
    platform: nodePlatform({
      intraOpThreads: settings.threads,
      ...(settings.cacheDir ? { cacheDir: settings.cacheDir } : {}),
      ...(settings.prepackWeights !== undefined ? { prepackWeights: settings.prepackWeights } : {}),
    }),
    plan,
  });
  const images = new Map<string, Awaited<ReturnType<typeof decodeImageFile>>>();
  return {
    name,
    async measure(prompt) {
      if (!images.has(prompt.image)) images.set(prompt.image, await decodeImageFile(prompt.image));
      const r = await engine.run({
        prompt: prompt.question,
        images: [images.get(prompt.image)!],
        maxNewTokens: settings.newTokens,
      });
      // decodeMs spans the steps after the first answer token (tokens - 1 of them).
      return {
        prefillMs: r.stats.prefillMs,
        decodePerSecond: ((r.tokenIds.length - 1) / r.stats.decodeMs) * 1000,
        tokens: r.tokenIds,
      };
    },
    dispose: () => engine.dispose(),
  };
}

type Timed = { [key: string]: unknown };

/** Replaces `target[key]` (an async method) with one that records each call's duration in `sink()`. */
function timeCalls(target: Timed, key: string, sink: () => number[]): void {
  const original = (target[key] as (...a: unknown[]) => Promise<unknown>).bind(target);
  target[key] = async (...args: unknown[]) => {
    const start = now();
    const out = await original(...args);
    sink().push(now() - start);
    return out;
  };
}

/**
 * transformers.js answering through its own processor, chat template and generate(), on a folder under
 * `env.localModelPath`. `@huggingface/transformers` is loaded only here, so the package works without it.
 */
export async function transformersJsArm(name: string, folder: string, settings: ArmSettings): Promise<Arm> {
  const tjs = await import('@huggingface/transformers');
  const processor = await tjs.AutoProcessor.from_pretrained(folder);
  const model = await tjs.LlavaForConditionalGeneration.from_pretrained(folder, {
    session_options: { intraOpNumThreads: settings.threads, interOpNumThreads: 1 },
  });
  type Inputs = Record<string, unknown>;
  // Prefill as our engine counts it: the first forward() of generate() (feeds, decoder run, outputs), less the
  // vision_encoder and embed_tokens runs inside it. The image-feature merge stays in (a copy of n_v rows).
  const sessions = (model as unknown as { sessions: Record<string, Timed> }).sessions;
  let forwardMs: number[] = [];
  let encoderMs: number[] = [];
  timeCalls(model as unknown as Timed, 'forward', () => forwardMs);
  for (const session of ['vision_encoder', 'embed_tokens'])
    timeCalls(sessions[session]!, 'run', () => encoderMs);
  const prepared = new Map<PeerPrompt, Inputs>();
  const prepare = async (prompt: PeerPrompt): Promise<Inputs> => {
    const text = processor.tokenizer!.apply_chat_template([{ role: 'user', content: prompt.question }], {
      tokenize: false,
      add_generation_prompt: true,
    }) as string;
    return (await processor(await tjs.RawImage.read(prompt.image), text)) as Inputs;
  };
  return {
    name,
    async measure(prompt) {
      if (!prepared.has(prompt)) prepared.set(prompt, await prepare(prompt));
      const inputs = prepared.get(prompt)!;
      const stamps: number[] = [];
      const tokens: number[] = [];
      const streamer = {
        put(value: bigint[][]) {
          stamps.push(now());
          if (stamps.length > 1) tokens.push(Number(value[0]![0]));
        },
        end() {},
      };
      forwardMs = [];
      encoderMs = [];
      await model.generate({
        ...inputs,
        max_new_tokens: settings.newTokens,
        do_sample: false,
        streamer,
      } as never);
      // stamps[0] is the prompt, stamps[1] the first answer token (after prefill), then one per decode step.
      const steps = stamps.length - 2;
      return {
        prefillMs: forwardMs[0]! - encoderMs[0]! - encoderMs[1]!,
        decodePerSecond: (steps / (stamps.at(-1)! - stamps[1]!)) * 1000,
        tokens,
      };
    },
    async dispose() {
      await model.dispose();
    },
  };
}
