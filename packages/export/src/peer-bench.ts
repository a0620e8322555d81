import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePlan } from '@shortv/plan';
import { readModelFiles } from '@shortv/runtime-core';
import { nodeModelFolder } from '@shortv/runtime-node';
import { type Arm, type ArmSettings, ourArm, type PeerPrompt, transformersJsArm } from './peer-arms.ts';
import { exportModel } from './transformers-js.ts';

export type { PeerPrompt } from './peer-arms.ts';

export interface PeerBenchOptions extends ArmSettings {
  /** A Hugging Face LLaVA folder. */
  readonly modelDir: string;
  readonly frozenLayers: readonly number[];
  readonly prompts: readonly PeerPrompt[];
  readonly reps: number;
  readonly log?: (line: string) => void;
}

export interface PeerBenchRow {
  readonly arm: string;
  readonly prefillMs: number;
  readonly prefillVsTjsDense: number;
  readonly decodeTokensPerSecond: number;
  readonly decodeVsTjsDense: number;
  readonly loadSeconds: number;
}

export interface PeerBenchReport {
  readonly frozenLayers: readonly number[];
  readonly numLayers: number;
  readonly visualTokens: number;
  readonly threads: number;
  readonly reps: number;
  readonly prompts: number;
  readonly newTokens: number;
  /** How our engines held their weights: embedded in each graph, or one shared file with a prepacking setting. */
  readonly weights:
    | { readonly kind: 'embedded' }
    | { readonly kind: 'shared'; readonly prepack: boolean | 'auto' };
  /** transformers.js and our runtime gave the same answer tokens on every run, dense and ShortV. */
  readonly sameTokens: boolean;
  readonly rows: readonly PeerBenchRow[];
}

const now = () => performance.now();

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * A copy of the model folder (weights linked, not copied) in which both stacks stop at `<unk>` instead of
 * `</s>`, so every run decodes exactly `newTokens` tokens and decode speed is measured over the same steps.
 */
async function benchCopy(modelDir: string, dir: string): Promise<void> {
  await mkdir(dir);
  for (const f of await readdir(modelDir)) {
    if (f.endsWith('.safetensors')) await symlink(join(modelDir, f), join(dir, f));
    else if (!['config.json', 'generation_config.json', 'tokenizer_config.json'].includes(f))
      await writeFile(join(dir, f), await readFile(join(modelDir, f)));
  }
  const config = JSON.parse(await readFile(join(modelDir, 'config.json'), 'utf8'));
  config.text_config.eos_token_id = 0;
  await writeFile(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  await writeFile(join(dir, 'generation_config.json'), JSON.stringify({ bos_token_id: 1, eos_token_id: 0 }));
  const tok = JSON.parse(await readFile(join(modelDir, 'tokenizer_config.json'), 'utf8'));
  tok.eos_token = '<unk>';
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(tok, null, 2));
}

/**
 * transformers.js on our dense export, transformers.js on our ShortV export, our runtime dense and ShortV: same
 * model, same machine, one run, arms interleaved (rotating order) per prompt; medians over repeats x prompts.
 */
export async function runPeerBench(options: PeerBenchOptions): Promise<PeerBenchReport> {
  const log = options.log ?? (() => {});
  const work = await mkdtemp(join(tmpdir(), 'shortv-peer-bench-'));
  const arms: Arm[] = [];
  try {
    const source = join(work, 'model');
    await benchCopy(options.modelDir, source);
    const files = await readModelFiles(nodeModelFolder(source));
    const numLayers = files.config.text.numLayers;
    const plan = parsePlan({
      format: 'shortv.freeze-plan',
      version: 1,
      model: { architecture: 'llava', numLayers, fingerprint: files.fingerprint },
      layers: options.frozenLayers.map((index) => ({ index, visual: 'freeze' })),
      prune: null,
      withdraw: null,
      lc: null,
      calibration: null,
      estimate: null,
    });
    log('peer bench: exporting dense and ShortV transformers.js folders...');
    await exportModel({ modelDir: source, outDir: join(work, 'tjs-dense'), format: 'transformers.js' });
    await exportModel({
      modelDir: source,
      outDir: join(work, 'tjs-shortv'),
      format: 'transformers.js',
      plan,
    });
    const { env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.localModelPath = work;
    const loadSeconds = new Map<string, number>();
    const load = async (make: () => Promise<Arm>) => {
      const start = now();
      const arm = await make();
      loadSeconds.set(arm.name, (now() - start) / 1000);
      log(`peer bench: ${arm.name} loaded in ${((now() - start) / 1000).toFixed(1)} s`);
      arms.push(arm);
    };
    await load(() => transformersJsArm('transformers.js dense', 'tjs-dense', options));
    await load(() => transformersJsArm('transformers.js ShortV export', 'tjs-shortv', options));
    await load(() => ourArm('ShortV-TS dense', source, null, options));
    await load(() => ourArm('ShortV-TS ShortV', source, plan, options));
    const prefill = arms.map(() => [] as number[]);
    const decode = arms.map(() => [] as number[]);
    let sameTokens = true;
    log('peer bench: warm-up...');
    for (const arm of arms) await arm.measure(options.prompts[0]!);
    for (let rep = 0; rep < options.reps; rep++) {
      for (const [i, prompt] of options.prompts.entries()) {
        const tokens: string[] = [];
        for (let k = 0; k < arms.length; k++) {
          const at = (k + rep + i) % arms.length;
          const r = await arms[at]!.measure(prompt);
          prefill[at]!.push(r.prefillMs);
          decode[at]!.push(r.decodePerSecond);
          tokens[at] = JSON.stringify(r.tokens);
        }
        sameTokens &&= tokens[0] === tokens[2] && tokens[1] === tokens[3];
      }
      log(`peer bench: repeat ${rep + 1}/${options.reps}`);
    }
    const basePrefill = median(prefill[0]!);
    const baseDecode = median(decode[0]!);
    const visualTokens = files.config.imageSeqLength;
    return {
      frozenLayers: [...options.frozenLayers],
      numLayers,
      visualTokens,
      threads: options.threads,
      reps: options.reps,
      prompts: options.prompts.length,
      newTokens: options.newTokens,
      // Without a cache folder the graphs embed their weights, which ORT always prepacks.
      weights:
        options.cacheDir === undefined
          ? { kind: 'embedded' }
          : { kind: 'shared', prepack: options.prepackWeights ?? 'auto' },
      sameTokens,
      rows: arms.map((arm, a) => ({
        arm: arm.name,
        prefillMs: median(prefill[a]!),
        prefillVsTjsDense: median(prefill[a]!) / basePrefill,
        decodeTokensPerSecond: median(decode[a]!),
        decodeVsTjsDense: median(decode[a]!) / baseDecode,
        loadSeconds: loadSeconds.get(arm.name)!,
      })),
    };
  } finally {
    for (const arm of arms) await arm.dispose();
    await rm(work, { recursive: true, force: true });
  }
}

export function peerBenchMarkdown(title: string, r: PeerBenchReport): string {
  return [
    `### ${title}: transformers.js vs ShortV-TS`,
    '',
    `ShortV freezes ${r.frozenLayers.length}/${r.numLayers} layers; one image (${r.visualTokens} visual tokens) per prompt; ${r.threads} thread(s) per arm; ${r.reps} repeats x ${r.prompts} prompt(s), arms interleaved; ${r.newTokens} new tokens; medians. ShortV-TS weights: ${r.weights.kind === 'embedded' ? 'embedded in each graph and prepacked per session (as transformers.js)' : `one weights file shared by the sessions, ORT prepacking ${r.weights.prepack}`}.`,
    '',
    '| arm | prefill ms | prefill vs transformers.js dense | decode tokens/s | decode vs transformers.js dense | load s |',
    '| --- | --- | --- | --- | --- | --- |',
    ...r.rows.map(
      (row) =>
        `| ${row.arm} | ${row.prefillMs.toFixed(1)} | ${row.prefillVsTjsDense.toFixed(3)}x | ${row.decodeTokensPerSecond.toFixed(1)} | ${row.decodeVsTjsDense.toFixed(3)}x | ${row.loadSeconds.toFixed(1)} |`,
    ),
    '',
    `Same answer tokens from transformers.js and ShortV-TS, dense and ShortV, on every run: ${r.sameTokens ? 'yes' : 'no'}.`,
    '',
  ].join('\n');
}
