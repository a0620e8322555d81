import {
  bfloat16ToFloat32,
  float16ToFloat32,
  openSafetensors,
  openShardedSafetensors,
  parseSafetensorsIndex,
  type SafetensorsTensorInfo,
  ShortvError,
  Tensor,
} from '@shortv/tensor';
import { parseLlavaConfigText } from '../config/parse.ts';
import type { LlavaConfig } from '../config/types.ts';
import { expectedTensors } from './expected.ts';
import { fileNotFound, type ModelFolder } from './folder.ts';
import { canonicalName, hfKey } from './names.ts';

/** Float32 weights by canonical name, read on demand from the folder's safetensors. */
export interface LlavaWeights {
  /** Canonical names of every tensor the model reads (lm_head absent when tied to the embeddings). */
  readonly names: readonly string[];
  shape(name: string): readonly number[];
  /** Reads one tensor as float32 (fp16/bf16 converted). `text.lm_head.weight` resolves to the embeddings when tied. */
  read(name: string): Promise<Tensor<'float32'>>;
  /** Every tensor in `names`, read into memory: what the reference and the graph emitters take. */
  readAll(): Promise<Map<string, Tensor<'float32'>>>;
  close(): Promise<void>;
}

export interface LlavaModel {
  readonly config: LlavaConfig;
  readonly weights: LlavaWeights;
}

interface Store {
  readonly keys: readonly string[];
  info(key: string): Promise<SafetensorsTensorInfo>;
  read(key: string): Promise<Tensor>;
  close(): Promise<void>;
}

async function openStore(folder: ModelFolder): Promise<Store> {
  if (await folder.exists('model.safetensors.index.json')) {
    const index = parseSafetensorsIndex(await folder.readText('model.safetensors.index.json'));
    const sharded = openShardedSafetensors(index, async (file) => {
      if (!(await folder.exists(file))) throw fileNotFound(folder.location, file);
      return folder.open(file);
    });
    return {
      keys: sharded.names,
      info: (k) => sharded.info(k),
      read: (k) => sharded.read(k),
      close: () => sharded.close(),
    };
  }
  if (await folder.exists('model.safetensors')) {
    const file = await openSafetensors(
      await folder.open('model.safetensors'),
      `${folder.location}/model.safetensors`,
    );
    return {
      keys: file.names,
      info: async (k) => file.info(k),
      read: (k) => file.read(k),
      close: () => file.close(),
    };
  }
  throw new ShortvError(
    'E_MODEL_WEIGHTS_NOT_FOUND',
    `${folder.location} has neither model.safetensors nor model.safetensors.index.json; a LLaVA folder needs one`,
  );
}

function toFloat32(name: string, t: Tensor): Tensor<'float32'> {
  switch (t.dtype) {
    case 'float32':
      return t as Tensor<'float32'>;
    case 'float16':
      return new Tensor('float32', float16ToFloat32(t.data as Uint16Array), t.dims);
    case 'bfloat16':
      return new Tensor('float32', bfloat16ToFloat32(t.data as Uint16Array), t.dims);
    default:
      throw new ShortvError(
        'E_MODEL_TENSOR_DTYPE',
        `tensor ${name} is ${t.dtype}; weights must be float32, float16 or bfloat16 (quantised checkpoints are not supported)`,
      );
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Maps checkpoint keys to canonical names and checks that every tensor the config implies is present with
 * the implied shape, reading only safetensors headers.
 */
export async function openLlavaWeights(folder: ModelFolder, config: LlavaConfig): Promise<LlavaWeights> {
  const store = await openStore(folder);
  try {
    const keyOf = new Map<string, string>();
    for (const key of store.keys) {
      const canonical = canonicalName(key);
      if (canonical === null) continue;
      const earlier = keyOf.get(canonical);
      if (earlier !== undefined) {
        throw new ShortvError(
          'E_MODEL_WEIGHTS_LAYOUT',
          `${folder.location}: keys '${earlier}' and '${key}' both name ${canonical}; a checkpoint must use one key layout`,
        );
      }
      keyOf.set(canonical, key);
    }
    const expected = expectedTensors(config);
    const missing = [...expected.keys()].filter((n) => !keyOf.has(n));
    if (missing.length > 0) {
      const first = missing[0]!;
      const more =
        missing.length > 1 ? ` (and ${missing.length - 1} more: ${missing.slice(1, 6).join(', ')}…)` : '';
      throw new ShortvError(
        'E_MODEL_MISSING_TENSOR',
        `${folder.location}: tensor ${first} (checkpoint key '${hfKey(first, 'legacy')}' or '${hfKey(first, 'current')}') ` +
          `is missing${more}; config.json implies it. Check that the folder holds the complete checkpoint for this config.`,
      );
    }
    for (const [name, shape] of expected) {
      const key = keyOf.get(name)!;
      const info = await store.info(key);
      if (!sameShape(info.shape, shape)) {
        throw new ShortvError(
          'E_MODEL_TENSOR_SHAPE',
          `${folder.location}: tensor ${name} (key '${key}') has shape [${info.shape.join(', ')}] but config.json implies ` +
            `[${shape.join(', ')}]; the weights and config.json disagree`,
        );
      }
    }
    const names = Object.freeze([...expected.keys()]);
    const resolve = (name: string): string => {
      const target =
        name === 'text.lm_head.weight' && config.tieWordEmbeddings ? 'text.embed_tokens.weight' : name;
      if (!expected.has(target)) {
        throw new ShortvError('E_MODEL_MISSING_TENSOR', `tensor ${name} is not one this model reads`);
      }
      return target;
    };
    const read = async (name: string) => {
      const target = resolve(name);
      return toFloat32(target, await store.read(keyOf.get(target)!));
    };
    return {
      names,
      shape: (name) => expected.get(resolve(name))!,
      read,
      async readAll() {
        const out = new Map<string, Tensor<'float32'>>();
        for (const name of names) out.set(name, await read(name));
        return out;
      },
      close: () => store.close(),
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** Reads config.json and opens the weights, checking them against it. */
export async function openLlavaModel(folder: ModelFolder): Promise<LlavaModel> {
  if (!(await folder.exists('config.json'))) throw fileNotFound(folder.location, 'config.json');
  const config = parseLlavaConfigText(await folder.readText('config.json'));
  return { config, weights: await openLlavaWeights(folder, config) };
}
