import type { WeightMap } from '@shortv/models';

/**
 * A digest of the weight VALUES (names, shapes and every byte), for graph-cache keys. The model
 * fingerprint covers config + tensor table only (cheap, and right for plans), so two checkpoints of one
 * architecture share it; cached graphs embed the weights and must not be shared between them.
 * Two multiply-xor lanes over 32-bit words: fast, not cryptographic (the cache verifies its own bytes).
 */
export function weightsDigest(weights: WeightMap): string {
  let a = 0x811c9dc5;
  let b = 0x9e3779b9;
  const mix = (word: number) => {
    a = Math.imul(a ^ word, 0x01000193);
    b = Math.imul(b ^ word, 0x85ebca6b) ^ (b >>> 13);
  };
  for (const name of [...weights.keys()].sort()) {
    const tensor = weights.get(name)!;
    for (let i = 0; i < name.length; i++) mix(name.charCodeAt(i));
    for (const d of tensor.dims) mix(d);
    const words = new Uint32Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.length);
    for (let i = 0; i < words.length; i++) mix(words[i]!);
  }
  return `${(a >>> 0).toString(16).padStart(8, '0')}${(b >>> 0).toString(16).padStart(8, '0')}`;
}
