import type { FreezePlan } from '../src/index.ts';

export const FINGERPRINT_A = `sha256:${'a1'.repeat(32)}`;
export const FINGERPRINT_B = `sha256:${'b2'.repeat(32)}`;

/** A complete, valid 12-layer plan; a fresh object each call so tests can mutate it. */
export function examplePlan(): FreezePlan {
  return {
    format: 'shortv.freeze-plan',
    version: 1,
    model: { architecture: 'llava', numLayers: 12, hiddenSize: 256, fingerprint: FINGERPRINT_A },
    layers: [
      { index: 11, visual: 'freeze' },
      { index: 9, visual: 'freeze' },
      { index: 10, visual: 'freeze' },
      { index: 0, visual: 'freeze' },
    ],
    prune: null,
    withdraw: null,
    lc: {
      visual: [0.02, 0.3, 0.25, 0.2, 0.18, 0.15, 0.12, 0.1, 0.08, 0.01, 0.005, 0],
      text: null,
      metric: 'kl(p_mod||p)@answer[0]',
      direction: 'ascending',
      samples: 40,
    },
    calibration: { dataset: 'shapes', samples: 40, seed: 0, createdWith: 'shortv 0.1.0' },
    estimate: { visualTokens: 144, textTokens: 24, flopsRatio: 0.72 },
    createdAt: '2026-01-02T03:04:05.000Z',
  };
}
