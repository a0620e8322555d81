import { readFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { type PeerBenchReport, peerBenchMarkdown, runPeerBench } from '@shortv/export/peer-bench';
import { modelShapesGoldenPath, modelShapesPackageDir } from '@shortv/model-shapes/node';
import { readModelFiles } from '@shortv/runtime-core';
import { nodeModelFolder } from '@shortv/runtime-node';
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
      const dir = await presetFolder(preset, cache);
      const files = await readModelFiles(nodeModelFolder(dir));
      const fp32Bytes = files.tensors.reduce((sum, e) => sum + e.shape.reduce((a, b) => a * b, 1), 0) * 4;
      // Measured on onevision-0.5b (2026-12-01): the four arms (two transformers.js exports, two engines, all
      // prepacked) peak at about 6.7x the fp32 weight bytes; the exports are fp32 whatever the preset's own rows use.
      if (fp32Bytes * 7 > totalmem() * 0.8) {
        const gb = ((fp32Bytes * 7) / 2 ** 30).toFixed(0);
        const reason = `needs about ${gb} GiB for four fp32 arms, more than this machine's ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
        log(`${preset.name}: transformers.js peer skipped: ${reason}`);
        skipped.push(`${preset.name} (transformers.js peer): skipped: ${reason}`);
        continue;
      }
      log(`${preset.name}: transformers.js peer rows (${reps} interleaved repeats)...`);
      const report = await runPeerBench({
        modelDir: dir,
        frozenLayers,
        prompts,
        reps,
        threads,
        newTokens: 8,
        cacheDir: cache,
        // transformers.js' sessions prepack their weights; ours do too here, so both run the same ORT setup.
        prepackWeights: true,
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
