/**
 * transformers.js vs ShortV-TS on the bundled model (or --model DIR), dense and ShortV, interleaved, medians.
 * Real-size presets: `shortv bench --preset onevision-0.5b --peer transformers.js`.
 *
 *   pnpm --filter @shortv/export bench:peer [--model DIR --frozen 10,11] [--reps 15] [--threads 1]
 *     [--new-tokens 16] [--prompts 4] [--json]
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { modelShapesDir, modelShapesGoldenPath, modelShapesPackageDir } from '@shortv/model-shapes/node';
import { type PeerPrompt, peerBenchMarkdown, runPeerBench } from '../src/peer-bench.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    frozen: { type: 'string' },
    reps: { type: 'string', default: '15' },
    'new-tokens': { type: 'string', default: '16' },
    threads: { type: 'string', default: '1' },
    prompts: { type: 'string', default: '4' },
    json: { type: 'boolean', default: false },
  },
});
const golden = JSON.parse(await readFile(modelShapesGoldenPath(), 'utf8')) as { samples: PeerPrompt[] };
const prompts = golden.samples
  .slice(0, Number(values.prompts))
  .map((s) => ({ image: join(modelShapesPackageDir(), s.image), question: s.question }));
// The bundled model's LC-chosen layers from a demo calibration run.
const frozen = values.frozen ? values.frozen.split(',').map(Number) : [0, 1, 4, 5, 6, 10, 11];
const report = await runPeerBench({
  modelDir: values.model ?? modelShapesDir(),
  frozenLayers: frozen,
  prompts,
  reps: Number(values.reps),
  threads: Number(values.threads),
  newTokens: Number(values['new-tokens']),
  log: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(
  values.json
    ? `${JSON.stringify(report)}\n`
    : peerBenchMarkdown(values.model ?? 'bundled shapes model', report),
);
