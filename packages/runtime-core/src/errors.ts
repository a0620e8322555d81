import { ShortvError } from '@shortv/tensor';

/** A request stopped through its AbortSignal. */
export class GenerationAbortedError extends ShortvError {
  constructor() {
    super('E_ABORTED', 'generation was aborted');
    this.name = 'GenerationAbortedError';
  }
}
