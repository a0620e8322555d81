import { ShortvError } from '@shortv/tensor';
import type { Tensor as OrtTensor } from 'onnxruntime-common';
import type { RuntimePlatform } from './platform.ts';

/**
 * Past keys/values of every decoder layer for one sequence: the `present.*` outputs of one step become
 * the `past_key_values.*` inputs of the next. Starts empty (past length 0).
 */
export class KvCache {
  private tensors: Map<string, OrtTensor>;
  private length = 0;

  constructor(
    platform: RuntimePlatform,
    private readonly numLayers: number,
    private readonly numKvHeads: number,
    private readonly headDim: number,
    private readonly batch = 1,
  ) {
    this.tensors = new Map();
    const empty = () =>
      platform.createTensor('float32', new Float32Array(0), [batch, numKvHeads, 0, headDim]);
    for (let i = 0; i < numLayers; i++) {
      this.tensors.set(`past_key_values.${i}.key`, empty());
      this.tensors.set(`past_key_values.${i}.value`, empty());
    }
  }

  get pastLength(): number {
    return this.length;
  }

  feeds(): Record<string, OrtTensor> {
    return Object.fromEntries(this.tensors);
  }

  /** Takes a step's `present.{i}.key|value` outputs as the cache for the next step. */
  update(outputs: Record<string, OrtTensor>): void {
    for (let i = 0; i < this.numLayers; i++) {
      for (const kind of ['key', 'value'] as const) {
        const present = outputs[`present.${i}.${kind}`];
        if (!present) {
          throw new ShortvError(
            'E_RUNTIME_GRAPH',
            `decoder output present.${i}.${kind} is missing: the graph does not match this runtime`,
          );
        }
        this.tensors.set(`past_key_values.${i}.${kind}`, present);
      }
    }
    const first = outputs['present.0.key'];
    this.length = first ? Number(first.dims[2]) : this.length;
  }

  get shape(): { batch: number; numKvHeads: number; headDim: number } {
    return { batch: this.batch, numKvHeads: this.numKvHeads, headDim: this.headDim };
  }
}
