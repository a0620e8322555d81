import { ShortvError } from '../errors.ts';
import type { Tensor } from '../tensor.ts';
import type { SafetensorsTensorInfo } from './header.ts';
import { isJsonObject, type JsonValue, parseJsonStrict } from './json.ts';
import { notFound, openSafetensors, type SafetensorsFile, type TensorStore } from './reader.ts';
import type { ByteSource } from './source.ts';

/** The parsed `model.safetensors.index.json`. */
export interface SafetensorsIndex {
  metadata: Record<string, JsonValue>;
  /** tensor name -> shard file name, relative to the index's folder. */
  weightMap: Map<string, string>;
}

function indexError(message: string): ShortvError {
  return new ShortvError('E_SAFETENSORS_INDEX', `safetensors index: ${message}`);
}

// Shards live next to the index; a name that climbs out of that folder is refused.
function checkShardName(tensor: string, file: string): void {
  const parts = file.split(/[/\\]/);
  if (file === '' || file.startsWith('/') || /^[A-Za-z]:/.test(file) || parts.includes('..')) {
    throw indexError(
      `tensor '${tensor}' maps to ${JSON.stringify(file)}, which is not a file name inside the model folder`,
    );
  }
}

export function parseSafetensorsIndex(json: string | Uint8Array): SafetensorsIndex {
  let text: string;
  try {
    text = typeof json === 'string' ? json : new TextDecoder('utf-8', { fatal: true }).decode(json);
  } catch {
    throw indexError('the file is not valid UTF-8');
  }
  const value = parseJsonStrict(text, 'safetensors index', {
    syntax: 'E_SAFETENSORS_INDEX',
    duplicate: 'E_SAFETENSORS_DUPLICATE',
  });
  if (!isJsonObject(value)) throw indexError('expected a JSON object');
  const { weight_map: map, metadata } = value;
  if (!isJsonObject(map)) throw indexError('weight_map must be an object of tensor name -> shard file');
  if (metadata !== undefined && metadata !== null && !isJsonObject(metadata)) {
    throw indexError('metadata must be an object');
  }
  const weightMap = new Map<string, string>();
  for (const [tensor, file] of Object.entries(map)) {
    if (typeof file !== 'string')
      throw indexError(`weight_map entry for '${tensor}' must be a file name string`);
    checkShardName(tensor, file);
    weightMap.set(tensor, file);
  }
  return { metadata: { ...(isJsonObject(metadata) ? metadata : {}) }, weightMap };
}

export interface ShardedSafetensors extends TensorStore {
  readonly index: SafetensorsIndex;
  /** Shard file names in first-use order of the index. */
  readonly shards: readonly string[];
  info(name: string): Promise<SafetensorsTensorInfo>;
  /** Opens every shard and checks that each tensor of the index is where the index says. */
  verify(): Promise<void>;
}

/**
 * A sharded set read lazily: a shard's header is read the first time one of its tensors is asked
 * for, and each tensor's bytes only when read. `openShard` resolves a shard file name (as written in
 * the index) to a source; if it fails the error names the missing shard.
 */
export function openShardedSafetensors(
  index: SafetensorsIndex | string | Uint8Array,
  openShard: (file: string) => Promise<ByteSource>,
): ShardedSafetensors {
  const parsed =
    typeof index === 'string' || index instanceof Uint8Array ? parseSafetensorsIndex(index) : index;
  const names = Object.freeze([...parsed.weightMap.keys()]);
  const shards = Object.freeze([...new Set(parsed.weightMap.values())]);
  const open = new Map<string, Promise<SafetensorsFile>>();

  const shard = (file: string): Promise<SafetensorsFile> => {
    let pending = open.get(file);
    if (pending === undefined) {
      pending = (async () => {
        let source: ByteSource;
        try {
          source = await openShard(file);
        } catch (error) {
          if (error instanceof ShortvError && error.code === 'E_SAFETENSORS_MISSING_SHARD') throw error;
          const reason = error instanceof Error ? `: ${error.message}` : '';
          throw new ShortvError(
            'E_SAFETENSORS_MISSING_SHARD',
            `shard '${file}' named in the index cannot be opened${reason}`,
            {
              cause: error,
            },
          );
        }
        try {
          return await openSafetensors(source, `shard '${file}'`);
        } catch (error) {
          await source.close?.();
          if (error instanceof ShortvError) {
            throw new ShortvError(error.code, `shard '${file}': ${error.message}`, { cause: error });
          }
          throw error;
        }
      })();
      // A failed open is not cached, so a caller can retry after fixing the folder.
      pending.catch(() => open.delete(file));
      open.set(file, pending);
    }
    return pending;
  };

  const locate = async (name: string): Promise<SafetensorsFile> => {
    const file = parsed.weightMap.get(name);
    if (file === undefined) throw notFound(name, 'the safetensors index');
    const opened = await shard(file);
    if (!opened.has(name)) {
      throw new ShortvError(
        'E_SAFETENSORS_INDEX',
        `the index puts tensor '${name}' in shard '${file}', but that shard has no such tensor`,
      );
    }
    return opened;
  };

  return {
    index: parsed,
    names,
    shards,
    has: (name) => parsed.weightMap.has(name),
    info: async (name) => (await locate(name)).info(name),
    read: async (name): Promise<Tensor> => (await locate(name)).read(name),
    async verify() {
      for (const name of names) await locate(name);
    },
    async close() {
      const pending = [...open.values()];
      open.clear();
      const settled = await Promise.allSettled(pending);
      for (const result of settled) if (result.status === 'fulfilled') await result.value.close();
    },
  };
}
