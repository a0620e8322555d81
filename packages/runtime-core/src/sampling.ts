import { argmax, ShortvError } from '@shortv/tensor';
import { createRandom } from './random.ts';

export interface SamplingOptions {
  /** 0 (default) means greedy decoding. */
  temperature?: number;
  /** Keep only the k most likely tokens (0 or undefined: no limit). */
  topK?: number;
  /** Keep the smallest set of tokens whose probability mass reaches p (1 or undefined: no limit). */
  topP?: number;
  /** Seed for the sampler's PRNG; the same seed gives the same tokens. */
  seed?: number;
}

export type Sampler = (logits: Float32Array) => number;

export function validateSampling(options: SamplingOptions): void {
  const { temperature = 0, topK = 0, topP = 1 } = options;
  if (!(temperature >= 0) || !Number.isFinite(temperature)) {
    throw new ShortvError('E_INPUT_SAMPLING', `temperature must be a finite number >= 0, got ${temperature}`);
  }
  if (!Number.isInteger(topK) || topK < 0) {
    throw new ShortvError('E_INPUT_SAMPLING', `topK must be an integer >= 0, got ${topK}`);
  }
  if (!(topP > 0 && topP <= 1)) {
    throw new ShortvError('E_INPUT_SAMPLING', `topP must be in (0, 1], got ${topP}`);
  }
}

/** Builds a token sampler. Greedy (temperature 0) ignores topK/topP and the seed. */
export function createSampler(options: SamplingOptions = {}): Sampler {
  validateSampling(options);
  const { temperature = 0, topK = 0, topP = 1, seed = 0 } = options;
  if (temperature === 0) return (logits) => argmax(logits);
  const random = createRandom(seed);
  return (logits) => {
    const order = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]! || a - b);
    const limit = topK > 0 ? Math.min(topK, order.length) : order.length;
    const max = logits[order[0]!]! / temperature;
    const weights: number[] = [];
    let total = 0;
    for (let i = 0; i < limit; i++) {
      const w = Math.exp(logits[order[i]!]! / temperature - max);
      weights.push(w);
      total += w;
    }
    // Nucleus: the smallest prefix (in probability order) whose mass reaches topP.
    let kept = weights.length;
    if (topP < 1) {
      let mass = 0;
      for (let i = 0; i < weights.length; i++) {
        mass += weights[i]! / total;
        if (mass >= topP) {
          kept = i + 1;
          break;
        }
      }
    }
    let keptTotal = 0;
    for (let i = 0; i < kept; i++) keptTotal += weights[i]!;
    let r = random() * keptTotal;
    for (let i = 0; i < kept; i++) {
      r -= weights[i]!;
      if (r < 0) return order[i]!;
    }
    return order[kept - 1]!;
  };
}
