import { ShortvError } from '@shortv/tensor';

/** What a model fingerprint is computed from: its config and its tensor table (not the weight bytes). */
export interface FingerprintInput {
  /** The parsed `config.json` of the model. */
  config: Record<string, unknown>;
  /** Every weight tensor, in any order. */
  tensors: readonly { name: string; dtype: string; shape: readonly number[] }[];
}

// Bookkeeping written by the saving library that changes when the same weights are re-saved.
// Keys starting with "_" (`_name_or_path`, `_commit_hash`, `_attn_implementation`) are of the same kind.
const VOLATILE_CONFIG_KEYS = new Set(['transformers_version']);

function canonical(value: unknown, where: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) {
        throw new ShortvError(
          'E_FINGERPRINT_INPUT',
          `${where} is ${value}; a model config holds only JSON values.`,
        );
      }
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value.map((item, i) => canonical(item ?? null, `${where}[${i}]`)).join(',')}]`;
      }
      const keys = Object.keys(value)
        .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
        .filter((key) => !key.startsWith('_') && !VOLATILE_CONFIG_KEYS.has(key))
        .sort();
      const parts = keys.map(
        (key) =>
          `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key], `${where}.${key}`)}`,
      );
      return `{${parts.join(',')}}`;
    }
    default:
      throw new ShortvError(
        'E_FINGERPRINT_INPUT',
        `${where} is a ${typeof value}; a model config holds only JSON values.`,
      );
  }
}

/**
 * The canonical text a fingerprint hashes: config with sorted keys (bookkeeping keys dropped) and
 * the tensor table sorted by name. Same model, same text, on every platform.
 */
export function fingerprintText(input: FingerprintInput): string {
  const tensors = [...input.tensors]
    .map(({ name, dtype, shape }) => {
      if (!shape.every((dim) => Number.isInteger(dim) && dim >= 0)) {
        throw new ShortvError(
          'E_FINGERPRINT_INPUT',
          `tensor ${JSON.stringify(name)} has shape [${shape.join(', ')}]; dimensions must be non-negative integers.`,
        );
      }
      return { name, dtype, shape: [...shape] };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 1; i < tensors.length; i++) {
    if (tensors[i]!.name === tensors[i - 1]!.name) {
      throw new ShortvError(
        'E_FINGERPRINT_INPUT',
        `tensor ${JSON.stringify(tensors[i]!.name)} is listed twice; each weight name must be unique.`,
      );
    }
  }
  return canonical({ config: input.config, tensors }, '$');
}

/**
 * Identifies a model for plan checks: `"sha256:<64 hex>"` of {@link fingerprintText}.
 *
 * It covers the config (architecture, sizes, token ids, ...) and every tensor's name, dtype and
 * shape, but not the weight bytes: hashing gigabytes of weights would cost more than calibrating.
 * This tells apart models of a different family, size, layout or precision, which is what makes a
 * plan meaningless. Two fine-tunes of the same base with identical configs share a fingerprint;
 * a plan made for one is then accepted for the other, and its layer choice may be less apt.
 *
 * Uses Web Crypto (`globalThis.crypto.subtle`), present in Node >= 20 and in browsers on secure
 * (https or localhost) pages.
 */
export async function modelFingerprint(input: FingerprintInput): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) {
    throw new ShortvError(
      'E_NO_WEBCRYPTO',
      'Web Crypto is not available, so the model fingerprint cannot be computed. Use Node >= 20, or serve the page over https or from localhost.',
    );
  }
  const digest = await subtle.digest('SHA-256', new TextEncoder().encode(fingerprintText(input)));
  const hex = Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `sha256:${hex}`;
}
