import { formatBytes } from './cache.ts';

export interface ThreadRow {
  threads: number;
  visualTokens: number;
  textTokens: number;
  /** Medians over the interleaved repeats. */
  denseMs: number;
  shortvMs: number;
  flopsDense: number;
  /** ShortV prefill FLOPs / dense (METHOD §5). */
  flopsRatio: number;
  /** ORT MatMul GFLOP/s at the decoder's FFN shape, measured in the same run. */
  peakGflops: number;
  loadMs: number;
  /** VmHWM of the process at the end (one engine, both plans run). */
  peakRssBytes: number;
  denseRssBytes: number;
  shortvRssBytes: number;
  loadedHwmBytes: number;
  /** VmHWM after the dense runs, before the first switch to the ShortV plan. */
  afterDenseHwmBytes: number;
  /** VmHWM after the first ShortV runs (same visual tokens): the growth from the dense one is the switch's cost. */
  afterShortvHwmBytes: number;
  switchMs: number;
}

export interface PresetReport {
  preset: string;
  description: string;
  checkpointDtype: string;
  weights: string;
  parameters: number;
  numLayers: number;
  frozenLayers: number[];
  checkpointBytes: number;
  weightsFileBytes: number;
  /** Parameters x 4: the weights as fp32 compute holds them. */
  computeWeightBytes: number;
  preparedSeconds: number;
  /** ORT weight prepacking of the sessions on the weights file: 'auto' (on for weights files up to 40% of system memory), 'on' or 'off'. */
  prepackWeights: string;
  /** The load before the measured ones, in a process of its own: it writes the weights file on first use. */
  firstLoad: { wroteWeightsFile: boolean; loadMs: number; peakRssBytes: number };
  /** Interleaved repeats behind each median. */
  reps: number;
  /** Whether each timed prefill followed an untimed one on the same session. */
  warmup: boolean;
  rows: ThreadRow[];
  sweep: {
    threads: number;
    visualTokens: number;
    denseMs: number;
    shortvMs: number;
    flopsRatio: number;
    densePeakRssBytes: number;
    shortvPeakRssBytes: number;
  }[];
}

export interface BenchReport {
  machine: { cpu: string; cores: number; memoryBytes: number; node: string; date: string };
  command: string;
  reports: PresetReport[];
  skipped: string[];
}

const f1 = (v: number) => v.toFixed(1);
const f2 = (v: number) => v.toFixed(2);

function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/** Realised share of the FLOPs-ideal speed-up: (dense / ShortV time) / (dense / ShortV FLOPs). */
export function realisedShare(denseMs: number, shortvMs: number, flopsRatio: number): number {
  return (denseMs / shortvMs) * flopsRatio;
}

function presetSection(r: PresetReport): string {
  const lines = [
    `### ${r.preset}`,
    '',
    `${r.description}. ${(r.parameters / 1e9).toFixed(3)} B parameters; checkpoint ${r.checkpointDtype}, ${formatBytes(r.checkpointBytes)} on disk; ` +
      `weights file (${r.weights}, as the graphs reference it) ${formatBytes(r.weightsFileBytes)}; fp32 weight bytes ${formatBytes(r.computeWeightBytes)}; ORT weight prepacking ${r.prepackWeights}. ` +
      `ShortV plan (LC-free): the deepest ${r.frozenLayers.length} of ${r.numLayers} layers frozen (${r.frozenLayers.join(', ')}). ` +
      `Medians of ${r.reps} interleaved repeat(s)${r.warmup ? ', each after an untimed warm-up prefill' : ', no warm-up prefill (one takes minutes here)'}. ` +
      `First load, before the rows below (own process): ${r.firstLoad.wroteWeightsFile ? 'wrote the weights file,' : 'the weights file was already cached,'} ` +
      `${f1(r.firstLoad.loadMs / 1000)} s, peak RSS ${formatBytes(r.firstLoad.peakRssBytes)} (${f2(r.firstLoad.peakRssBytes / r.computeWeightBytes)}x the fp32 weight bytes); ` +
      'the rows load from the cached file.',
    '',
    table(
      [
        'threads',
        'visual + text tokens',
        'MatMul peak GFLOP/s',
        'dense ms',
        'ShortV ms',
        'time ratio',
        'FLOPs ratio',
        'realised share of ideal speed-up',
        'dense GFLOP/s (% of peak)',
        'load s',
        'peak RSS',
        'peak RSS / fp32 weight bytes',
        'plan switch: peak RSS growth / weight bytes',
      ],
      r.rows.map((row) => {
        const gflops = row.flopsDense / row.denseMs / 1e6;
        return [
          String(row.threads),
          `${row.visualTokens} + ${row.textTokens}`,
          f1(row.peakGflops),
          f1(row.denseMs),
          f1(row.shortvMs),
          f2(row.shortvMs / row.denseMs),
          f2(row.flopsRatio),
          f2(realisedShare(row.denseMs, row.shortvMs, row.flopsRatio)),
          `${f1(gflops)} (${((100 * gflops) / row.peakGflops).toFixed(0)}%)`,
          f1(row.loadMs / 1000),
          formatBytes(row.peakRssBytes),
          f2(row.peakRssBytes / r.computeWeightBytes),
          f2((row.afterShortvHwmBytes - row.afterDenseHwmBytes) / r.computeWeightBytes),
        ];
      }),
    ),
  ];
  if (r.sweep.length > 0) {
    lines.push(
      '',
      `Visual-token sweep (${r.sweep[0]!.threads} threads; each plan in its own process, one timed prefill after a warm-up):`,
      '',
      table(
        [
          'visual tokens',
          'dense ms',
          'ShortV ms',
          'time ratio',
          'FLOPs ratio',
          'realised share',
          'peak RSS dense',
          'peak RSS ShortV',
        ],
        r.sweep.map((s) => [
          String(s.visualTokens),
          f1(s.denseMs),
          f1(s.shortvMs),
          f2(s.shortvMs / s.denseMs),
          f2(s.flopsRatio),
          f2(realisedShare(s.denseMs, s.shortvMs, s.flopsRatio)),
          formatBytes(s.densePeakRssBytes),
          formatBytes(s.shortvPeakRssBytes),
        ]),
      ),
    );
  }
  return lines.join('\n');
}

export function benchText(report: BenchReport): string {
  return `${report.reports.map(presetSection).join('\n\n')}\n${report.skipped.map((s) => `\n${s}`).join('')}\n`;
}

export function benchMarkdown(report: BenchReport): string {
  const m = report.machine;
  return [
    '# Benchmarks',
    '',
    'Written by `pnpm bench`; every number below was measured by that run (none typed in).',
    '',
    `- Machine: ${m.cpu}, ${m.cores} cores, ${formatBytes(m.memoryBytes)} memory; Node ${m.node}; onnxruntime-node CPU.`,
    `- Date: ${m.date}`,
    `- Command: \`${report.command}\``,
    '- Models: random weights in real decoder shapes (generated into the cache directory on first use); the vision',
    '  tower is a small stand-in (144 features per 72 px image), so N visual tokens are N/144 images.',
    '- Prefill = the decoder pass over the whole prompt (what ShortV speeds up); medians of interleaved repeats',
    '  (dense, ShortV, dense, ...), each timed run after an untimed warm-up. The machine may be shared with other',
    '  work: compare the ratios, which come from the same minutes, rather than absolute times.',
    '- Memory: VmHWM (peak resident set) of a process holding one engine; weights are one memory-mapped file',
    '  shared by every session (external data), so file-backed pages count once per mapping. With prepacking on,',
    '  each session also holds a packed copy of its MatMul weights (auto: on for weights files up to 40% of system memory).',
    '',
    ...report.reports.map((r) => `${presetSection(r)}\n`),
    ...report.skipped.map((s) => `- ${s}`),
    '',
  ].join('\n');
}
