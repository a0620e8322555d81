import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type PeerBenchReport, peerBenchMarkdown, runPeerBench } from '@shortv/export/peer-bench';
import { modelShapesGoldenPath, modelShapesPackageDir } from '@shortv/model-shapes/node';
import { UsageError } from '../errors.ts';
import { type BenchPreset, presetFolder } from './bench-presets.ts';

/** Runtimes `shortv bench --peer` compares against. */
export const BENCH_PEERS = ['transformers.js'] as const;

export function checkPeer(peer: string | undefined): 'transformers.js' | null {
  if (peer === undefined) return null;
  if (!(BENCH_PEERS as readonly string[]).includes(peer)) {
    throw new UsageError(`unknown --peer "${peer}": use ${BENCH_PEERS.join(', ')}`);
  }
  return 'transformers.js';
}

export interface PeerRun {
  readonly preset: string;
  readonly report: PeerBenchReport;
}

/**
 * Each preset side by side with transformers.js on our exports of it (dense and ShortV): one image and a
 * golden question per prompt, the same deepest-layers plan as the dense/ShortV rows, arms interleaved.
 */
export async function benchPeers(
  presets: readonly BenchPreset[],
  cache: string,
  threads: number,
  reps: number,
  log: (line: string) => void,
): Promise<{ runs: PeerRun[]; markdown: string; skipped: string[] }> {
  const golden = JSON.parse(await readFile(modelShapesGoldenPath(), 'utf8')) as {
    samples: { image: string; question: string }[];
  };
  const prompts = golden.samples
    .slice(0, 2)
    .map((s) => ({ image: join(modelShapesPackageDir(), s.image), question: s.question }));
  const runs: PeerRun[] = [];
  const skipped: string[] = [];
  const parts: string[] = [];
  for (const preset of presets) {
    const numLayers = Number(preset.textConfig.num_hidden_layers);
    const frozenLayers = Array.from(
      { length: preset.frozenLayers },
      (_, i) => numLayers - preset.frozenLayers + i,
    );
    try {
      log(`${preset.name}: transformers.js peer rows (${reps} interleaved repeats)...`);
      const report = await runPeerBench({
        modelDir: await presetFolder(preset, cache),
        frozenLayers,
        prompts,
        reps,
        threads,
        newTokens: 8,
        cacheDir: cache,
        log: (line) => log(`${preset.name}: ${line}`),
      });
      runs.push({ preset: preset.name, report });
      parts.push(peerBenchMarkdown(preset.name, report));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      log(`${preset.name}: transformers.js peer failed: ${reason}`);
      skipped.push(`${preset.name} (transformers.js peer): failed: ${reason}`);
    }
  }
  return { runs, markdown: parts.join('\n'), skipped };
}
