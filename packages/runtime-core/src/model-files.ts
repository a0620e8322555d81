import { type LlavaConfig, type ModelFolder, parseLlavaConfigText } from '@shortv/models';
import { modelFingerprint } from '@shortv/plan';
import {
  type ClipProcessorConfig,
  openSafetensors,
  openShardedSafetensors,
  parseSafetensorsIndex,
  ShortvError,
} from '@shortv/tensor';
import { TextTokenizer } from './tokenizer.ts';

/** Everything in a model folder besides the weights: what the engine reads once at load. */
export interface ModelFiles {
  readonly config: LlavaConfig;
  readonly rawConfig: Record<string, unknown>;
  readonly tokenizer: TextTokenizer;
  readonly processor: ClipProcessorConfig;
  readonly eosTokenIds: readonly number[];
  readonly maxNewTokens: number | undefined;
  /** `sha256:...` over config.json and the tensor table: what freeze plans are checked against. */
  readonly fingerprint: string;
  /** Every weight tensor's name, dtype and shape, from the safetensors headers. */
  readonly tensors: readonly TensorEntry[];
}

export interface TensorEntry {
  name: string;
  dtype: string;
  shape: number[];
}

async function readJson(folder: ModelFolder, file: string, required: boolean): Promise<unknown> {
  if (!(await folder.exists(file))) {
    if (!required) return undefined;
    throw new ShortvError(
      'E_MODEL_FILE_NOT_FOUND',
      `${file} is missing from the model folder ${folder.location}`,
    );
  }
  const text = await folder.readText(file);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ShortvError(
      'E_MODEL_JSON',
      `${folder.location}/${file} is not valid JSON: ${(error as Error).message}`,
    );
  }
}

/** Names, dtypes and shapes of every weight tensor, from the safetensors headers alone. */
async function tensorTable(folder: ModelFolder): Promise<TensorEntry[]> {
  if (await folder.exists('model.safetensors.index.json')) {
    const sharded = openShardedSafetensors(
      parseSafetensorsIndex(await folder.readText('model.safetensors.index.json')),
      (file) => folder.open(file),
    );
    try {
      return await Promise.all(
        sharded.names.map(async (name) => {
          const info = await sharded.info(name);
          return { name, dtype: info.dtype, shape: info.shape };
        }),
      );
    } finally {
      await sharded.close();
    }
  }
  const source = await folder.open('model.safetensors');
  const file = await openSafetensors(source, `${folder.location}/model.safetensors`);
  try {
    return file.names.map((name) => {
      const info = file.info(name);
      return { name, dtype: info.dtype, shape: info.shape };
    });
  } finally {
    await file.close();
  }
}

function idList(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value)) return value.filter((v): v is number => typeof v === 'number');
  return [];
}

export async function readModelFiles(folder: ModelFolder): Promise<ModelFiles> {
  const configText = await folder.readText('config.json').catch((error: unknown) => {
    if (error instanceof ShortvError) throw error;
    throw new ShortvError(
      'E_MODEL_FILE_NOT_FOUND',
      `config.json is missing from the model folder ${folder.location}`,
    );
  });
  const config = parseLlavaConfigText(configText);
  const rawConfig = JSON.parse(configText) as Record<string, unknown>;
  const tokenizerJson = await readJson(folder, 'tokenizer.json', true);
  const tokenizerConfig = await readJson(folder, 'tokenizer_config.json', false);
  const tokenizer = new TextTokenizer(tokenizerJson, tokenizerConfig ?? {});
  const processor = ((await readJson(folder, 'preprocessor_config.json', true)) ?? {}) as ClipProcessorConfig;
  const generation = ((await readJson(folder, 'generation_config.json', false)) ?? {}) as Record<
    string,
    unknown
  >;
  const eos = new Set<number>(idList(generation.eos_token_id));
  if (tokenizer.eosToken !== undefined) {
    const id = tokenizer.tokenId(tokenizer.eosToken);
    if (id !== undefined) eos.add(id);
  }
  const maxNewTokens = typeof generation.max_new_tokens === 'number' ? generation.max_new_tokens : undefined;
  const tensors = await tensorTable(folder);
  const fingerprint = await modelFingerprint({ config: rawConfig, tensors });
  return {
    config,
    rawConfig,
    tokenizer,
    processor,
    eosTokenIds: [...eos],
    maxNewTokens,
    fingerprint,
    tensors,
  };
}
