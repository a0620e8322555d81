/**
 * Deterministic pseudo-random numbers. Only 32-bit integer arithmetic is used, so every platform
 * (Node, browsers, any CPU) produces the same stream for the same key.
 */

/** Final avalanche step: spreads every input bit over the whole 32-bit word. */
function mix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Hashes a string to four 32-bit words (four independently seeded lanes), enough state to seed
 * the generator below without correlated streams for keys that differ in one character.
 */
export function hashString(key: string): [number, number, number, number] {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = 0x7f4a7c15;
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x5bd1e995);
    c = Math.imul(c ^ code, 0x27d4eb2f);
    d = Math.imul(d ^ code, 0x165667b1);
  }
  const n = key.length;
  a = mix32(a ^ n);
  b = mix32(b ^ a);
  c = mix32(c ^ b);
  d = mix32(d ^ c);
  return [a, b, c, d];
}

/** One 32-bit hash of a string, e.g. to bucket content. */
export function hash32(key: string): number {
  return hashString(key)[3];
}

/** Small fast counter-based generator (SFC32: 128-bit state, period at least 2^32). */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private counter: number;

  constructor(key: string) {
    const [a, b, c, d] = hashString(key);
    this.a = a;
    this.b = b;
    this.c = c;
    this.counter = d;
    // Discard the first outputs: they still carry structure from the seed words.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.counter) | 0;
    this.counter = (this.counter + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  chance(probability: number): boolean {
    return this.float() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick() needs a non-empty list');
    return items[this.int(items.length)] as T;
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffled<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = out[i] as T;
      out[i] = out[j] as T;
      out[j] = tmp;
    }
    return out;
  }
}
