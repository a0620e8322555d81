import type { DemoReport } from '../../src/index.ts';

/** A 12-layer demo report whose LC spans 7 orders of magnitude, with an exact zero (the last layer). */
export function exampleReport(): DemoReport {
  return {
    model: 'shortv/llava-shapes-tiny',
    fingerprint: 'sha256:0123abcd',
    numLayers: 12,
    lc: {
      visual: [2.1e-3, 0.35, 0.12, 4.4e-2, 9.1e-3, 6.6e-4, 3.3e-4, 1.2e-4, 8.7e-5, 2.2e-5, 4.1e-6, 0],
      text: [1.7, 2.4, 0.91, 0.66, 0.52, 0.47, 0.31, 0.28, 0.22, 0.19, 0.12, 8.8e-2],
      metric: 'kl(p_mod||p)@answer[0]',
    },
    plan: { frozen: [11, 10, 9, 8, 7, 6, 5], flopsRatio: 0.4713 },
    calibration: {
      samples: 40,
      seconds: 12.34,
      dataset: 'shapes calibration seed 1',
      seed: 0,
      createdWith: 'shortv 0.1.0',
    },
    eval: {
      samples: 120,
      dense: { accuracy: 0.8125, prefillMs: 14.52 },
      shortv: { accuracy: 0.7917, prefillMs: 9.87 },
      perFamily: {
        color_of_shape: { samples: 20, dense: 0.95, shortv: 0.9 },
        count: { samples: 20, dense: 0.55, shortv: 0.6 },
        describe: { samples: 20, dense: 0.35, shortv: 0.3 },
        exists: { samples: 20, dense: 0.85, shortv: 0.8 },
        position: { samples: 20, dense: 0.75, shortv: 0.7 },
        relation: { samples: 20, dense: 0.65, shortv: 0.7 },
      },
      agreement: 0.9083,
      description: {
        samples: 20,
        dense: { exactMatch: 0.35, f1: 0.8123 },
        shortv: { exactMatch: 0.3, f1: 0.7988 },
      },
    },
    timing: {
      samples: 24,
      repeats: 5,
      warmup: 2,
      dense: { medianMs: 15.01 },
      planned: { medianMs: 10.2 },
      ratio: { medianOfRatios: 0.6712, ratioOfMedians: 0.6796 },
    },
    ablation: [
      { label: 'LC-chosen', accuracy: 0.7917, layers: [5, 6, 7, 8, 9, 10, 11] },
      { label: 'random (mean of 5 seeds)', accuracy: 0.6433, perFamily: { count: 0.41 } },
      { label: 'last 7', accuracy: 0.7917 },
      { label: 'first 7', accuracy: 0.2417, perFamily: { count: 0.15, exists: 0.5 } },
    ],
    createdAt: '2025-01-01T00:00:00.000Z',
  };
}
