import { availableParallelism, cpus, totalmem } from 'node:os';
import { readModelFiles } from '@shortv/runtime-core';
import { nodeModelFolder } from '@shortv/runtime-node';
import type { Command, CommandContext } from '../command.ts';
import { UsageError } from '../errors.ts';
import { writeFileAtomic } from '../files.ts';
import { integerFlag, rejectPositionals, stringFlag } from '../flags.ts';
import { cacheDir, MODEL_OPTION_HELP } from '../model.ts';
import { benchPeers, checkPeer } from './bench-peer.ts';
import { BENCH_PRESETS, type BenchPreset, presetFolder, TOKENS_PER_IMAGE } from './bench-presets.ts';
import { benchMarkdown, benchText, type PresetReport, type ThreadRow } from './bench-report.ts';
import { checkpointBytes, latestWeightsFileBytes, median, runChild, weightsFileNames } from './bench-run.ts';

const USAGE =
  'shortv bench --preset NAME[,NAME...] [--threads 1,2] [--reps N] [--sweep] [--prepack-weights auto|on|off] [--peer transformers.js] [--out BENCHMARKS.md] [--cache-dir DIR] [--json]';
export const SWEEP_VISUAL_TOKENS = [144, 576, 1152, 2880] as const;
const TEXT_TOKENS = 64;

/** The deepest `count` layers: an LC-free plan with the paper's share of frozen layers. */
function deepestLayers(numLayers: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => numLayers - count + i);
}

function threadList(ctx: CommandContext): number[] {
  const text = stringFlag(ctx, 'threads') ?? `1,${availableParallelism()}`;
  const list = [...new Set(text.split(',').map((s) => Number(s.trim())))];
  if (list.some((n) => !Number.isInteger(n) || n < 1 || n > 256)) {
    throw new UsageError(`--threads takes whole numbers from 1 to 256 separated by commas, got "${text}"`);
  }
  return list;
}

const PREPACK_SETTINGS = { auto: 'auto', on: true, off: false } as const;
type PrepackSetting = (typeof PREPACK_SETTINGS)[keyof typeof PREPACK_SETTINGS];

function prepackFlag(value: string | undefined): PrepackSetting {
  if (value === undefined) return 'auto';
  if (Object.hasOwn(PREPACK_SETTINGS, value)) return PREPACK_SETTINGS[value as keyof typeof PREPACK_SETTINGS];
  throw new UsageError(`--prepack-weights takes auto, on or off, got "${value}"`);
}

/** The flag value that selects `setting`: auto, on or off. */
function prepackName(setting: PrepackSetting): string {
  return Object.entries(PREPACK_SETTINGS).find(([, v]) => v === setting)![0];
}

export async function benchPreset(
  preset: BenchPreset,
  cache: string,
  askedThreads: number[],
  askedReps: number,
  sweep: boolean,
  log: (line: string) => void,
  prepackWeights: PrepackSetting = 'auto',
): Promise<PresetReport> {
  log(`${preset.name}: preparing the random-weight folder (generated on first use)...`);
  const generated = performance.now();
  const dir = await presetFolder(preset, cache);
  const files = await readModelFiles(nodeModelFolder(dir));
  const t = files.config.text;
  const parameters = files.tensors.reduce((sum, e) => sum + e.shape.reduce((a, b) => a * b, 1), 0);
  const frozen = deepestLayers(t.numLayers, preset.frozenLayers);
  const base = {
    mode: 'prefill' as const,
    model: dir,
    cacheDir: cache,
    tokensPerImage: TOKENS_PER_IMAGE,
    frozenLayers: frozen,
    textTokens: TEXT_TOKENS,
    weights: preset.weights,
    warmup: preset.maxRuns?.warmup ?? true,
    prepackWeights,
  };
  const threads = preset.maxRuns ? [Math.max(...askedThreads)] : askedThreads;
  const reps = preset.maxRuns ? Math.min(askedReps, preset.maxRuns.reps) : askedReps;
  const rows: ThreadRow[] = [];
  // The first load of a checkpoint converts it into the weights file (one tensor at a time); later loads map
  // that file. Done in a process of its own so the measured engines below are what every later load costs.
  log(`${preset.name}: first load (writes the weights file unless the cache has it)...`);
  const weightsBefore = new Set(await weightsFileNames(cache));
  const first = await runChild({
    ...base,
    arms: [],
    threads: Math.max(...threads),
    visualTokens: [],
    reps: 0,
  });
  const firstLoad = {
    wroteWeightsFile: (await weightsFileNames(cache)).some((name) => !weightsBefore.has(name)),
    loadMs: first.loadMs,
    peakRssBytes: first.memory.end.hwmKiB * 1024,
  };
  let weightsFileBytes = 0;
  for (const n of threads) {
    log(`${preset.name}: MatMul peak at ${n} thread(s)...`);
    const peak = await runChild({
      mode: 'peak',
      rows: preset.visualTokens[0]! + TEXT_TOKENS,
      inner: t.hiddenSize,
      outer: t.intermediateSize,
      threads: n,
      reps: 5,
    });
    log(`${preset.name}: dense and ShortV prefill at ${n} thread(s), ${reps} interleaved repeats...`);
    const run = await runChild({
      ...base,
      arms: ['dense', 'shortv'],
      threads: n,
      visualTokens: [...preset.visualTokens],
      reps,
    });
    weightsFileBytes = await latestWeightsFileBytes(cache);
    for (const row of run.rows) {
      rows.push({
        threads: n,
        visualTokens: row.visualTokens,
        textTokens: row.textTokens,
        denseMs: median(row.denseMs),
        shortvMs: median(row.shortvMs),
        flopsDense: row.flopsDense,
        flopsRatio: row.flopsShortv / row.flopsDense,
        peakGflops: peak.gflops,
        loadMs: run.loadMs,
        peakRssBytes: run.memory.end.hwmKiB * 1024,
        denseRssBytes: (run.memory.dense?.rssKiB ?? Number.NaN) * 1024,
        shortvRssBytes: (run.memory.shortv?.rssKiB ?? Number.NaN) * 1024,
        loadedHwmBytes: run.memory.loaded.hwmKiB * 1024,
        afterDenseHwmBytes: (run.memory.dense?.hwmKiB ?? Number.NaN) * 1024,
        afterShortvHwmBytes: (run.memory.shortv?.hwmKiB ?? Number.NaN) * 1024,
        switchMs: median(run.switchMs.slice(1)),
      });
    }
  }
  const sweepRows: PresetReport['sweep'] = [];
  if (sweep && preset.sweep) {
    const n = Math.max(...threads);
    for (const visualTokens of SWEEP_VISUAL_TOKENS) {
      log(`${preset.name}: sweep at ${visualTokens} visual tokens (each plan in its own process)...`);
      const arm = async (which: 'dense' | 'shortv') => {
        const r = await runChild({
          ...base,
          arms: [which],
          threads: n,
          visualTokens: [visualTokens],
          reps: 1,
        });
        const row = r.rows[0]!;
        return {
          ms: median(which === 'dense' ? row.denseMs : row.shortvMs),
          hwm: r.memory.end.hwmKiB * 1024,
          row,
        };
      };
      const dense = await arm('dense');
      const shortv = await arm('shortv');
      sweepRows.push({
        threads: n,
        visualTokens,
        denseMs: dense.ms,
        shortvMs: shortv.ms,
        flopsRatio: shortv.row.flopsShortv / dense.row.flopsDense,
        densePeakRssBytes: dense.hwm,
        shortvPeakRssBytes: shortv.hwm,
      });
    }
  }
  return {
    preset: preset.name,
    description: preset.description,
    checkpointDtype: preset.dtype,
    weights: preset.weights,
    parameters,
    numLayers: t.numLayers,
    frozenLayers: frozen,
    checkpointBytes: await checkpointBytes(dir),
    weightsFileBytes,
    computeWeightBytes: parameters * 4,
    preparedSeconds: (performance.now() - generated) / 1000,
    firstLoad,
    prepackWeights: prepackName(prepackWeights),
    reps,
    warmup: base.warmup,
    rows,
    sweep: sweepRows,
  };
}

export const benchCommand: Command = {
  path: ['bench'],
  summary: 'Benchmark dense vs ShortV prefill, memory and load time on random-weight models of real shapes',
  usage: USAGE,
  options: {
    preset: { type: 'string' },
    threads: { type: 'string' },
    reps: { type: 'string' },
    sweep: { type: 'boolean' },
    peer: { type: 'string' },
    'prepack-weights': { type: 'string' },
    out: { type: 'string' },
    'cache-dir': { type: 'string' },
  },
  optionHelp: {
    preset: {
      value: 'NAME',
      description: `one or more of ${Object.keys(BENCH_PRESETS).join(', ')}, comma-separated`,
    },
    threads: { value: 'N,N', description: 'ONNX Runtime thread counts to run', default: '1 and all cores' },
    reps: {
      value: 'N',
      description: 'interleaved dense/ShortV repeats per configuration (medians reported)',
      default: '3',
    },
    sweep: {
      description: `also sweep visual tokens ${SWEEP_VISUAL_TOKENS.join(', ')} (prefill and peak memory per plan)`,
    },
    peer: {
      value: 'NAME',
      description:
        'also run transformers.js on our dense and ShortV exports of each preset, interleaved with our runtime (prefill, decode tokens/s)',
    },
    'prepack-weights': {
      value: 'auto|on|off',
      description:
        'ORT weight prepacking for the preset rows: on is faster and holds a packed copy of the weights per session, off shares one mapped copy; auto prepacks weights files up to 40% of system memory',
      default: 'auto',
    },
    out: { value: 'FILE', description: 'also write the report as Markdown (e.g. BENCHMARKS.md)' },
    'cache-dir': MODEL_OPTION_HELP['cache-dir']!,
  },
  notes:
    'Each configuration runs in its own process, so peak memory (VmHWM) is its own. Preset folders are generated\n' +
    'into <cache-dir>/presets on first use (random weights, streamed one tensor chunk at a time). The machine may be\n' +
    'shared: compare ratios within one run, not absolute times across runs.',
  async run(ctx) {
    rejectPositionals(ctx, USAGE);
    const names = (stringFlag(ctx, 'preset') ?? '').split(',').filter(Boolean);
    if (names.length === 0) throw new UsageError(`--preset is required.\nUsage: ${USAGE}`);
    const presets = names.map((name) => {
      const preset = BENCH_PRESETS[name];
      if (!preset) {
        throw new UsageError(`unknown preset "${name}": use one of ${Object.keys(BENCH_PRESETS).join(', ')}`);
      }
      return preset;
    });
    const cache = await cacheDir({ ...ctx, values: { ...ctx.values, 'no-cache': false } });
    if (!cache) throw new UsageError('shortv bench needs a cache directory: pass --cache-dir DIR');
    const threads = threadList(ctx);
    const reps = integerFlag(ctx, 'reps', 1, 100, 3);
    const sweep = ctx.values.sweep === true;
    const peer = checkPeer(stringFlag(ctx, 'peer'));
    const prepack = prepackFlag(stringFlag(ctx, 'prepack-weights'));
    const log = (line: string) => {
      if (!ctx.json) ctx.io.stderr(`${line}\n`);
    };
    const started = new Date();
    const reports: PresetReport[] = [];
    const skipped: string[] = [];
    for (const preset of presets) {
      try {
        reports.push(await benchPreset(preset, cache, threads, reps, sweep, log, prepack));
      } catch (error) {
        // One preset that cannot run here (memory, disk) must not cost the others' figures.
        const reason = error instanceof Error ? error.message : String(error);
        log(`${preset.name}: failed: ${reason}`);
        skipped.push(`${preset.name}: failed: ${reason}`);
      }
    }
    const peers = peer ? await benchPeers(presets, cache, Math.max(...threads), reps, log) : null;
    if (peers) skipped.push(...peers.skipped);
    const machine = {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: availableParallelism(),
      memoryBytes: totalmem(),
      node: process.version,
      date: started.toISOString(),
    };
    const command = `shortv bench --preset ${names.join(',')} --threads ${threads.join(',')} --reps ${reps}${sweep ? ' --sweep' : ''}${prepack !== 'auto' ? ` --prepack-weights ${prepackName(prepack)}` : ''}${peer ? ` --peer ${peer}` : ''}`;
    const peerMarkdown = peers?.markdown ? `\n## Peer: ${peer}\n\n${peers.markdown}` : '';
    const out = stringFlag(ctx, 'out');
    if (out) await writeFileAtomic(out, benchMarkdown({ machine, command, reports, skipped }) + peerMarkdown);
    if (ctx.json)
      ctx.io.stdout(`${JSON.stringify({ machine, command, reports, skipped, peer: peers?.runs ?? null })}\n`);
    else ctx.io.stdout(benchText({ machine, command, reports, skipped }) + peerMarkdown);
    return 0;
  },
};
