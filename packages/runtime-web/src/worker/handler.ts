import { type LcSample, layerContribution } from '@shortv/lc';
import { type ModelFolder, memoryModelFolder } from '@shortv/models';
import { checkPlanForModel, type FreezePlan, parsePlan } from '@shortv/plan';
import { type RuntimePlatform, VlmEngine } from '@shortv/runtime-core';
import { type RawImage, ShortvError } from '@shortv/tensor';
import { cacheStorageModelCache } from '../cache.ts';
import { fileModelFolder } from '../file-folder.ts';
import { decodeImage } from '../image.ts';
import { webBackendInfo, webPlatform } from '../platform.ts';
import { urlModelFolder } from '../url-folder.ts';
import type {
  CalibrateRequest,
  CalibrateResult,
  GenerateRequest,
  GenerateResult,
  ImageInput,
  LoadOptions,
  MessageEndpoint,
  ModelInfo,
  ModelSource,
  PlanInfo,
  WireError,
  WorkerRequest,
  WorkerResponse,
} from './protocol.ts';
import { yieldingPlatform } from './yield.ts';

export interface WorkerHandlerOptions {
  /** The platform a load runs on; default `webPlatform(loadOptions)`. */
  createPlatform?: (options: LoadOptions) => RuntimePlatform;
}

interface Loaded {
  folder: ModelFolder;
  platform: RuntimePlatform;
  dense: VlmEngine;
  /** The engine that runs `arm: 'plan'`, opened on the first plan and kept for later ones. */
  planned: VlmEngine | null;
  plan: FreezePlan | null;
  info: ModelInfo;
}

function isRawImage(image: ImageInput): image is RawImage {
  const candidate = image as Partial<RawImage>;
  return typeof candidate.width === 'number' && candidate.data instanceof Uint8Array;
}

function toRawImage(image: ImageInput): Promise<RawImage> {
  return isRawImage(image) ? Promise.resolve(image) : decodeImage(image);
}

function folderOf(
  source: ModelSource,
  progress: (p: WorkerResponse & { type: 'progress' }) => void,
  id: number,
) {
  if ('baseUrl' in source) {
    const cache =
      source.cacheName === null
        ? null
        : source.cacheName === undefined
          ? undefined
          : cacheStorageModelCache(source.cacheName);
    return urlModelFolder(source.baseUrl, {
      ...(cache === undefined ? {} : { cache }),
      onProgress: (p) => progress({ type: 'progress', id, progress: p }),
    });
  }
  if ('files' in source) return fileModelFolder(source.files);
  if ('folder' in source) return memoryModelFolder(source.folder, '(model files sent to the worker)');
  throw new ShortvError('E_WORKER_REQUEST', 'load needs a source: { baseUrl }, { files } or { folder }');
}

function frozenOf(plan: FreezePlan): number[] {
  return plan.layers
    .filter((layer) => layer.visual === 'freeze')
    .map((layer) => layer.index)
    .sort((a, b) => a - b);
}

function modelInfo(
  engine: VlmEngine,
  folder: ModelFolder,
  platform: RuntimePlatform,
  seconds: number,
): ModelInfo {
  const config = engine.config;
  const t = config.text;
  const backend =
    platform.name === 'web'
      ? webBackendInfo(platform)
      : { backend: 'wasm' as const, threads: 1, fallbackReason: `platform ${platform.name}` };
  return {
    architecture: 'llava',
    modelType: config.modelType,
    textModelType: t.modelType,
    numLayers: t.numLayers,
    hiddenSize: t.hiddenSize,
    fingerprint: engine.fingerprint,
    visualTokens: config.imageSeqLength,
    identity: {
      architecture: 'llava',
      numLayers: t.numLayers,
      fingerprint: engine.fingerprint,
      hiddenSize: t.hiddenSize,
    },
    flopsModel: {
      hiddenSize: t.hiddenSize,
      intermediateSize: t.intermediateSize,
      numLayers: t.numLayers,
      numHeads: t.numHeads,
      numKvHeads: t.numKvHeads,
      headDim: t.headDim,
    },
    ...(engine.files.maxNewTokens === undefined ? {} : { maxNewTokens: engine.files.maxNewTokens }),
    location: folder.location,
    backend,
    loadSeconds: seconds,
  };
}

function toWire(error: unknown): WireError {
  if (error instanceof ShortvError) return { code: error.code, message: error.message };
  if (error instanceof Error) {
    return { code: 'E_WORKER_INTERNAL', message: `${error.name}: ${error.message || '(no message)'}` };
  }
  return { code: 'E_WORKER_INTERNAL', message: `the worker failed with ${String(error)}` };
}

/**
 * Serves the engine protocol on `port` (a worker's `self`, or a MessagePort): loads a model, applies plans,
 * generates and calibrates. Requests run one at a time in arrival order; `abort` acts at once on the
 * request it names, whether running or still queued.
 */
export function handleWorkerMessages(port: MessageEndpoint, options: WorkerHandlerOptions = {}): void {
  const create = options.createPlatform ?? ((o: LoadOptions) => webPlatform(o));
  const createPlatform = (o: LoadOptions) => yieldingPlatform(create(o));
  const controllers = new Map<number, AbortController>();
  let queue: Promise<unknown> = Promise.resolve();
  let loaded: Loaded | null = null;

  const post = (message: WorkerResponse) => port.postMessage(message);

  const requireModel = (): Loaded => {
    if (!loaded)
      throw new ShortvError('E_WORKER_NO_MODEL', 'no model is loaded in the worker; call load() first');
    return loaded;
  };

  const load = async (id: number, source: ModelSource, loadOptions: LoadOptions): Promise<ModelInfo> => {
    const start = performance.now();
    const folder = folderOf(source, post, id);
    const platform = createPlatform(loadOptions);
    const dense = await VlmEngine.load(folder, { platform });
    const previous = loaded;
    loaded = null;
    await Promise.all([previous?.dense.dispose(), previous?.planned?.dispose()]);
    const info = modelInfo(dense, folder, platform, (performance.now() - start) / 1000);
    loaded = { folder, platform, dense, planned: null, plan: null, info };
    return info;
  };

  const setPlan = async (planJson: string | null): Promise<PlanInfo | null> => {
    const model = requireModel();
    if (planJson === null) {
      model.plan = null;
      return null;
    }
    const plan = parsePlan(planJson);
    checkPlanForModel(plan, model.info.identity);
    if (model.planned) await model.planned.setPlan(plan);
    else model.planned = await VlmEngine.load(model.folder, { platform: model.platform, plan });
    model.plan = plan;
    return { plan, frozenLayers: frozenOf(plan), estimate: plan.estimate ?? null };
  };

  const generate = async (
    id: number,
    request: GenerateRequest,
    signal: AbortSignal,
  ): Promise<GenerateResult> => {
    const model = requireModel();
    if (request.arm !== 'dense' && request.arm !== 'plan') {
      throw new ShortvError(
        'E_WORKER_REQUEST',
        `arm must be 'dense' or 'plan', got '${String(request.arm)}'`,
      );
    }
    const engine = request.arm === 'dense' ? model.dense : model.plan ? model.planned : null;
    if (!engine) {
      throw new ShortvError(
        'E_WORKER_NO_PLAN',
        "no plan is set for arm 'plan'; call setPlan(planJson) first",
      );
    }
    const image = await toRawImage(request.image);
    const iterator = engine.generate({
      prompt: request.prompt,
      images: [image],
      ...(request.maxNewTokens === undefined ? {} : { maxNewTokens: request.maxNewTokens }),
      signal,
    });
    for (;;) {
      const next = await iterator.next();
      if (next.done) {
        const { text, tokenIds, stats } = next.value;
        return { text, tokenIds, arm: request.arm, stats };
      }
      post({ type: 'token', id, text: next.value.text });
    }
  };

  const calibrate = async (
    id: number,
    request: CalibrateRequest,
    signal: AbortSignal,
  ): Promise<CalibrateResult> => {
    const model = requireModel();
    if (!Array.isArray(request.samples) || request.samples.length === 0) {
      throw new ShortvError('E_INPUT_SAMPLES', 'no calibration samples were given; LC needs at least one');
    }
    const total = request.samples.length;
    const samples: LcSample[] = [];
    for (const [index, sample] of request.samples.entries()) {
      if (signal.aborted) break;
      samples.push({
        id: String(index),
        prompt: sample.question,
        answer: sample.answer,
        images: [await toRawImage(sample.image)],
      });
    }
    post({ type: 'calibrate-progress', id, done: 0, total });
    return layerContribution(model.dense, samples, {
      signal,
      ...(request.dataset === undefined ? {} : { dataset: request.dataset }),
      ...(request.createdWith === undefined ? {} : { createdWith: request.createdWith }),
      ...(request.seed === undefined ? {} : { seed: request.seed }),
      ...(request.direction === undefined ? {} : { direction: request.direction }),
      ...(request.aggregation === undefined ? {} : { aggregation: request.aggregation }),
      onProgress: (p) => {
        if (p.phase === 'layer' && p.layer === p.layers - 1) {
          post({ type: 'calibrate-progress', id, done: p.sample + 1, total: p.samples });
        }
      },
    });
  };

  const run = (request: Exclude<WorkerRequest, { type: 'abort' }>, signal: AbortSignal): Promise<unknown> => {
    switch (request.type) {
      case 'load':
        return load(request.id, request.source, request.options ?? {});
      case 'setPlan':
        return setPlan(request.planJson);
      case 'generate':
        return generate(request.id, request.request, signal);
      case 'calibrate':
        return calibrate(request.id, request.request, signal);
    }
  };

  const onMessage = (event: MessageEvent) => {
    const request = event.data as WorkerRequest;
    if (typeof request !== 'object' || request === null || typeof request.id !== 'number') return;
    if (request.type === 'abort') {
      controllers.get(request.id)?.abort();
      return;
    }
    const controller = new AbortController();
    controllers.set(request.id, controller);
    queue = queue.then(async () => {
      try {
        if (controller.signal.aborted)
          throw new ShortvError('E_ABORTED', `request ${request.id} was aborted`);
        const value = await run(request, controller.signal);
        post({ type: 'result', id: request.id, value });
      } catch (error) {
        const wire = controller.signal.aborted
          ? {
              code: 'E_ABORTED',
              message:
                toWire(error).code === 'E_ABORTED'
                  ? toWire(error).message
                  : `request ${request.id} was aborted`,
            }
          : toWire(error);
        post({ type: 'error', id: request.id, error: wire });
      } finally {
        controllers.delete(request.id);
      }
    });
  };

  port.addEventListener('message', onMessage);
  port.start?.();
}
