import type { LcScores } from '@shortv/lc';
import type { GenerationStats } from '@shortv/runtime-core';
import {
  EngineWorkerClient,
  type FileProgress,
  type WebBackend,
  type WebBackendInfo,
} from '@shortv/runtime-web/client';
import type { PlanTarget } from './plan-model.ts';
import { type CalibrationSample, pngBlob } from './scenes.ts';

export type RunArm = 'dense' | 'plan';
export type LoadProgress = FileProgress;

export interface RunResult {
  text: string;
  stats: GenerationStats;
}

export interface LoadedModel {
  target: PlanTarget;
  backend: WebBackendInfo;
  /** One line for the status bar: architecture, layers, visual tokens, load time. */
  summary: string;
}

/** What the page asks of the engine worker. */
export interface EngineApi {
  load(
    baseUrl: string,
    options: {
      backend: WebBackend;
      numThreads?: number;
      /** Text tokens the FLOPs estimate assumes until a question is run (a typical prompt's). */
      textTokens: number;
      onProgress: (p: LoadProgress) => void;
    },
  ): Promise<LoadedModel>;
  setPlan(planJson: string | null): Promise<void>;
  generate(
    request: { image: Blob; prompt: string; maxNewTokens: number; arm: RunArm },
    onToken: (text: string) => void,
  ): Promise<RunResult>;
  calibrate(
    samples: readonly CalibrationSample[],
    onProgress: (done: number, total: number) => void,
  ): Promise<LcScores>;
  abort(): void;
}

export function createEngineApi(worker: Worker): EngineApi {
  const client = new EngineWorkerClient(worker);
  let lastPlan: string | null | undefined;
  return {
    async load(baseUrl, { onProgress, textTokens, ...options }) {
      const info = await client.load({ baseUrl }, { ...options, onProgress });
      return {
        target: {
          identity: {
            numLayers: info.numLayers,
            fingerprint: info.fingerprint,
            architecture: info.architecture,
            hiddenSize: info.hiddenSize,
          },
          dims: info.flopsModel,
          tokens: { visualTokens: info.visualTokens, textTokens },
        },
        backend: info.backend,
        summary: `${info.modelType} LLaVA, ${info.numLayers} decoder layers, hidden ${info.hiddenSize}, ${info.visualTokens} visual tokens per image; loaded in ${info.loadSeconds.toFixed(1)} s`,
      };
    },
    async setPlan(planJson) {
      // The worker rebuilds the planned decoder only when the plan really changed.
      if (planJson === lastPlan) return;
      await client.setPlan(planJson);
      lastPlan = planJson;
    },
    async generate(request, onToken) {
      const result = await client.generate(request, onToken);
      return { text: result.text, stats: result.stats };
    },
    calibrate(samples, onProgress) {
      return client.calibrate(
        {
          samples: samples.map((s) => ({ image: pngBlob(s.png), question: s.question, answer: s.answer })),
          dataset: 'shapes calibration split (drawn in the page)',
          createdWith: 'shortv playground',
          seed: 0,
        },
        onProgress,
      );
    },
    abort() {
      client.abort();
    },
  };
}
