import { ShortvError } from '@shortv/tensor';
import type { FileProgress } from '../url-folder.ts';
import type {
  CalibrateRequest,
  CalibrateResult,
  GenerateRequest,
  GenerateResult,
  LoadOptions,
  MessageEndpoint,
  ModelInfo,
  ModelSource,
  PlanInfo,
  WorkerRequest,
  WorkerResponse,
} from './protocol.ts';

/** A Worker, or anything that carries the protocol like one (a MessagePort in tests). */
export type WorkerLike = MessageEndpoint & { terminate?(): void; close?(): void };

interface Pending {
  kind: WorkerRequest['type'];
  resolve(value: unknown): void;
  reject(error: ShortvError): void;
  onEvent?: (message: WorkerResponse) => void;
  aborted: boolean;
}

/**
 * The page side of the engine worker: one method per request, each a promise of its answer. Errors from
 * the worker are re-thrown here as ShortvError with the worker's code and message.
 */
export class EngineWorkerClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  constructor(private readonly worker: WorkerLike) {
    worker.addEventListener('message', (event) => this.receive(event.data as WorkerResponse));
    const failed = (event: Event) => {
      const detail = (event as ErrorEvent).message;
      this.failAll(
        new ShortvError(
          'E_WORKER_FAILED',
          `the engine worker failed${detail ? `: ${detail}` : ''}; check that its script loads (see the console), then reload`,
        ),
      );
    };
    const target = worker as unknown as {
      addEventListener(type: string, listener: (event: Event) => void): void;
    };
    target.addEventListener('error', failed);
    target.addEventListener('messageerror', failed);
    worker.start?.();
  }

  /** Loads a model; replaces the one loaded before. `onProgress` reports each file's download. */
  load(
    source: ModelSource,
    options: LoadOptions & { onProgress?: (progress: FileProgress) => void } = {},
  ): Promise<ModelInfo> {
    const { onProgress, ...loadOptions } = options;
    return this.request<ModelInfo>({ type: 'load', source, options: loadOptions }, (message) => {
      if (message.type === 'progress') onProgress?.(message.progress);
    });
  }

  /**
   * Validates a plan (JSON text) against the loaded model and makes it the plan of `arm: 'plan'`; null
   * clears it. Malformed JSON, a schema violation (its JSON path in the message) or a plan for another
   * model reject with the plan package's codes (E_PLAN_JSON, E_PLAN_INVALID, E_PLAN_MODEL_MISMATCH).
   */
  async setPlan(planJson: string | null): Promise<PlanInfo | null> {
    return this.request<PlanInfo | null>({ type: 'setPlan', planJson });
  }

  /** Answers `prompt` about `image` on the dense model or with the plan; `onToken` streams the text. */
  generate(request: GenerateRequest, onToken?: (text: string) => void): Promise<GenerateResult> {
    return this.request<GenerateResult>({ type: 'generate', request }, (message) => {
      if (message.type === 'token') onToken?.(message.text);
    });
  }

  /** Layer Contribution over the samples; `onProgress(done, total)` after each sample. */
  calibrate(
    request: CalibrateRequest,
    onProgress?: (done: number, total: number) => void,
  ): Promise<CalibrateResult> {
    return this.request<CalibrateResult>({ type: 'calibrate', request }, (message) => {
      if (message.type === 'calibrate-progress') onProgress?.(message.done, message.total);
    });
  }

  /** Stops the generation or calibration in flight (and any queued); their promises reject with E_ABORTED. */
  abort(): void {
    for (const [id, entry] of this.pending) {
      if (entry.kind !== 'generate' && entry.kind !== 'calibrate') continue;
      entry.aborted = true;
      this.worker.postMessage({ type: 'abort', id } satisfies WorkerRequest);
    }
  }

  /** Stops the worker; every open request rejects with E_WORKER_TERMINATED. */
  terminate(): void {
    this.failAll(new ShortvError('E_WORKER_TERMINATED', 'the engine worker was terminated'));
    this.closed = true;
    if (this.worker.terminate) this.worker.terminate();
    else this.worker.close?.();
  }

  private request<T>(
    message: DistributiveOmit<Exclude<WorkerRequest, { type: 'abort' }>, 'id'>,
    onEvent?: (message: WorkerResponse) => void,
  ): Promise<T> {
    if (this.closed) {
      return Promise.reject(
        new ShortvError('E_WORKER_TERMINATED', 'the engine worker was terminated; create a new one'),
      );
    }
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, {
        kind: message.type,
        resolve: resolve as (value: unknown) => void,
        reject,
        ...(onEvent ? { onEvent } : {}),
        aborted: false,
      });
      try {
        this.worker.postMessage({ ...message, id });
      } catch (error) {
        this.pending.delete(id);
        reject(
          new ShortvError(
            'E_WORKER_REQUEST',
            `cannot send the ${message.type} request to the worker: ${(error as Error).message}`,
            { cause: error },
          ),
        );
      }
    });
  }

  private receive(message: WorkerResponse): void {
    if (typeof message !== 'object' || message === null) return;
    const entry = this.pending.get(message.id);
    if (!entry) return;
    if (message.type === 'result' || message.type === 'error') {
      this.pending.delete(message.id);
      if (entry.aborted) {
        entry.reject(new ShortvError('E_ABORTED', `the ${entry.kind} request was aborted`));
      } else if (message.type === 'result') {
        entry.resolve(message.value);
      } else {
        entry.reject(new ShortvError(message.error.code, message.error.message));
      }
      return;
    }
    if (!entry.aborted) entry.onEvent?.(message);
  }

  private failAll(error: ShortvError): void {
    const entries = [...this.pending.values()];
    this.pending.clear();
    for (const entry of entries) entry.reject(error);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
