import { type LcSample, searchVtwLayer, type VtwSearchResult } from '@shortv/lc';
import {
  type FreezePlan,
  PLAN_FORMAT,
  PLAN_VERSION,
  type PlanPrune,
  parsePlan,
  prefillFlops,
} from '@shortv/plan';
import { createRandom, type VlmEngine } from '@shortv/runtime-core';
import { ShortvError } from '@shortv/tensor';
import type { CommandContext } from '../command.ts';
import { imageLoader, readDataset } from '../data.ts';
import { UsageError } from '../errors.ts';
import { integerFlag, numberFlag, requiredStringFlag, stringFlag } from '../flags.ts';
import type { OptionHelpTable } from '../help.ts';
import { loadEngine, MODEL_OPTIONS, resolveModelDir } from '../model.ts';
import { ProgressBar } from '../progress.ts';
import { abortOnSigint } from '../signals.ts';

/** `shortv plan` options for the peer methods (FastV pruning, VTW withdrawal). */
export const PEER_PLAN_OPTIONS = {
  fastv: { type: 'string' },
  vtw: { type: 'boolean' },
  data: { type: 'string' },
  samples: { type: 'string' },
  eta: { type: 'string' },
  seed: { type: 'string' },
  threads: MODEL_OPTIONS.threads,
  'cache-dir': MODEL_OPTIONS['cache-dir'],
  'no-cache': MODEL_OPTIONS['no-cache'],
} as const;

export const PEER_PLAN_OPTION_HELP: OptionHelpTable = {
  fastv: {
    value: 'K:R',
    description:
      'add FastV pruning: after layer K-1 keep the (1-R) share of visual tokens the last token attends to most (e.g. 2:0.5)',
  },
  vtw: {
    description:
      'add VTW withdrawal from the first layer whose withdrawal keeps KL <= --eta on --data (needs the model)',
  },
  data: { value: 'PATH', description: 'calibration data for --vtw (as for `shortv calibrate`)' },
  samples: { value: 'N', description: 'calibration samples of the --vtw search', default: '40' },
  eta: {
    value: 'X',
    description: 'largest mean KL(P_withdrawn || P) at the last prompt token accepted by --vtw',
    default: '0.01',
  },
  seed: { value: 'S', description: 'seed of the --vtw sample pick', default: '0' },
  threads: { value: 'N', description: 'ONNX Runtime intra-op threads for --vtw', default: '1' },
  'cache-dir': {
    value: 'DIR',
    description: 'graph cache folder for --vtw',
    default: '$SHORTV_CACHE_DIR, else ~/.cache/shortv/graphs',
  },
  'no-cache': { description: 'build the --vtw graphs in memory only' },
};

/** Parses `--fastv K:R` (FastV's K and R) into the plan's prune entry. */
export function fastvFlag(ctx: CommandContext, numLayers: number): PlanPrune | null {
  const raw = stringFlag(ctx, 'fastv');
  if (raw === undefined) return null;
  const match = /^\s*(\d+)\s*:\s*([0-9.]+)\s*$/.exec(raw);
  const k = match ? Number(match[1]) : Number.NaN;
  const r = match ? Number(match[2]) : Number.NaN;
  if (!(k >= 1 && k <= numLayers - 1) || !(r >= 0 && r < 1)) {
    throw new UsageError(
      `--fastv must be K:R with K in 1..${numLayers - 1} (prune after layer K-1) and R in [0, 1) (share dropped), got "${raw}"`,
    );
  }
  return { afterLayer: k - 1, keep: 1 - r };
}

/** One single-answer question per image, picked by a seeded shuffle. */
async function vtwSamples(ctx: CommandContext, count: number, seed: number): Promise<LcSample[]> {
  const records = readDataset(
    requiredStringFlag(ctx, 'data', 'shortv plan --vtw --data PATH --out plan.json'),
  );
  const byImage = new Map<string, (typeof records)[number]>();
  for (const r of records)
    if (r.family !== 'describe' && !byImage.has(r.imagePath)) byImage.set(r.imagePath, r);
  const list = [...byImage.values()];
  const random = createRandom(seed);
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  const load = imageLoader();
  return Promise.all(
    list
      .slice(0, count)
      .map(async (r) => ({ id: r.id, prompt: r.question, images: [await load(r.imagePath)] })),
  );
}

/** Runs VTW's layer search for `shortv plan --vtw` on the model and data the flags name. */
export async function vtwSearch(
  ctx: CommandContext,
): Promise<{ result: VtwSearchResult; engine: VlmEngine; samples: LcSample[] }> {
  const eta = numberFlag(ctx, 'eta', { min: 0, max: Number.MAX_VALUE }, 0.01)!;
  const samples = await vtwSamples(
    ctx,
    integerFlag(ctx, 'samples', 1, 100_000, 40),
    integerFlag(ctx, 'seed', 0, 2 ** 32 - 1, 0),
  );
  const engine = await loadEngine(ctx, await resolveModelDir(ctx), null);
  const abort = abortOnSigint();
  try {
    const bar = new ProgressBar(ctx.io, 'VTW search', !ctx.json);
    const result = await searchVtwLayer(engine, samples, {
      eta,
      signal: abort.signal,
      onProgress: (done, total) => bar.update(done, total),
    });
    bar.done(result.fromLayer === null ? 'no layer within eta' : `K = ${result.fromLayer}`);
    if (!ctx.json) {
      const kls = result.tried.map((t) => `${t.fromLayer}: ${t.kl.toExponential(2)}`).join(', ');
      ctx.io.stderr(`mean KL(P_withdrawn || P) by first withdrawn layer: ${kls}\n`);
    }
    if (result.fromLayer === null) {
      await engine.dispose();
      const smallest = Math.min(...result.tried.map((t) => t.kl));
      throw new ShortvError(
        'E_INPUT_ETA',
        `no layer's withdrawal keeps KL <= ${eta} (smallest ${smallest.toExponential(2)}): raise --eta`,
      );
    }
    return { result, engine, samples };
  } finally {
    abort.dispose();
  }
}

/**
 * A plan from parts: frozen layers (possibly none), FastV pruning and VTW withdrawal, with a FLOPs
 * estimate for the given prompt shape.
 */
export function peerPlan(
  engine: Pick<VlmEngine, 'config' | 'fingerprint'>,
  parts: { base?: FreezePlan; prune: PlanPrune | null; fromLayer: number | null },
  tokens: { visualTokens: number; textTokens: number },
): FreezePlan {
  const t = engine.config.text;
  const layers = parts.base?.layers ?? [];
  const withdraw = parts.fromLayer === null ? null : { fromLayer: parts.fromLayer };
  const estimate = prefillFlops(t, tokens, { layers, prune: parts.prune, withdraw });
  return parsePlan({
    ...(parts.base ?? {
      format: PLAN_FORMAT,
      version: PLAN_VERSION,
      model: { architecture: 'llava', numLayers: t.numLayers, fingerprint: engine.fingerprint },
      lc: null,
      calibration: null,
    }),
    layers,
    prune: parts.prune,
    withdraw,
    estimate: { ...tokens, flopsRatio: estimate.ratio },
  });
}

/** Adds the `--fastv` / `--vtw` parts to `base` (an LC plan, or none for a peer-only plan). */
export async function withPeers(ctx: CommandContext, base: FreezePlan | undefined): Promise<FreezePlan> {
  const vtw = ctx.values.vtw === true;
  const found = vtw ? await vtwSearch(ctx) : undefined;
  const files = found?.engine ?? (await loadEngine(ctx, await resolveModelDir(ctx), null));
  try {
    const prune = fastvFlag(ctx, files.config.text.numLayers);
    let tokens = base?.estimate ?? undefined;
    if (!tokens && found) {
      const prepared = await found.engine.preparePrompt(found.samples[0]!);
      const visual = prepared.visual.filter(Boolean).length;
      tokens = { visualTokens: visual, textTokens: prepared.seq - visual, flopsRatio: 1 };
    }
    const shape = tokens ?? { visualTokens: files.config.imageSeqLength, textTokens: 32 };
    const plan = peerPlan(
      files,
      { ...(base ? { base } : {}), prune, fromLayer: found?.result.fromLayer ?? null },
      { visualTokens: shape.visualTokens, textTokens: shape.textTokens },
    );
    // The engine checks the combination (e.g. withdrawal right after pruning) the way a run would.
    await files.setPlan(plan);
    return plan;
  } finally {
    await files.dispose();
  }
}
