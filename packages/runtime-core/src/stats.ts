/** What one request cost, measured on the engine that ran it. */
export interface GenerationStats {
  promptTokens: number;
  visualTokens: number;
  textTokens: number;
  newTokens: number;
  /** Wall time of the vision tower (all images). */
  visionMs: number;
  /** Wall time of the decoder prefill (the part ShortV speeds up). */
  prefillMs: number;
  decodeMs: number;
  decodeTokensPerSecond: number;
  /** Decoder prefill FLOPs (METHOD §5 formula): dense, under the engine's plan, and their ratio. */
  flops: { dense: number; planned: number; ratio: number };
  frozenLayers: number[];
  /**
   * Under a plan with FastV pruning or VTW withdrawal: the prompt rows the layers after the first drop ran on
   * (original row indices, ascending).
   */
  keptRows?: number[];
  stopReason: 'eos' | 'stop-string' | 'max-tokens';
}

export function now(): number {
  return globalThis.performance.now();
}
