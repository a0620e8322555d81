import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { modelShapesDir, modelShapesGoldenPath, modelShapesPackageDir } from '@shortv/model-shapes/node';
import { describe, expect, it } from 'vitest';
import { peerBenchMarkdown, runPeerBench } from '../src/peer-bench.ts';

describe('runPeerBench', () => {
  it('times four arms that give the same tokens, and renders them', async () => {
    const golden = JSON.parse(await readFile(modelShapesGoldenPath(), 'utf8')) as {
      samples: { image: string; question: string }[];
    };
    const sample = golden.samples[0]!;
    const report = await runPeerBench({
      modelDir: modelShapesDir(),
      frozenLayers: [10, 11],
      prompts: [{ image: join(modelShapesPackageDir(), sample.image), question: sample.question }],
      reps: 1,
      threads: 1,
      newTokens: 4,
    });
    expect(report.rows.map((r) => r.arm)).toEqual([
      'transformers.js dense',
      'transformers.js ShortV export',
      'ShortV-TS dense',
      'ShortV-TS ShortV',
    ]);
    expect(report.sameTokens).toBe(true);
    expect(report.rows[0]!.prefillVsTjsDense).toBe(1);
    for (const row of report.rows) {
      expect(row.prefillMs).toBeGreaterThan(0);
      expect(row.decodeTokensPerSecond).toBeGreaterThan(0);
    }
    expect(peerBenchMarkdown('bundled', report)).toContain('| ShortV-TS ShortV |');
  });
});
