import {
  type DecoderForm,
  emitDecoderGraph,
  emitEmbedGraph,
  emitVisionGraph,
  type LlavaConfig,
  type WeightMap,
} from '@shortv/models';
import { encodeModel, type ModelProto } from '@shortv/onnx';
import type { InferenceSession } from 'onnxruntime-common';
import type { RuntimePlatform, SessionOptions } from './platform.ts';

/**
 * Bumped whenever the emitted graphs change for the same weights, so cached graphs of an older builder
 * are never reused.
 */
export const GRAPH_BUILDER_VERSION = 'llava-1';

async function sha256Hex(text: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

export function decoderFormKey(form: DecoderForm): string {
  const layers = (list: readonly number[]) => [...list].sort((a, b) => a - b).join('.');
  if (form.kind === 'shortv') return `shortv-${layers(form.frozenLayers)}`;
  if (form.kind === 'pruned') {
    const prune = form.prune ? `-p${form.prune.afterLayer}` : '';
    const withdraw = form.withdraw ? `-w${form.withdraw.fromLayer}` : '';
    return `pruned-f${layers(form.frozenLayers)}${prune}${withdraw}`;
  }
  return form.kind;
}

/** Builds (or takes from the platform's cache) one graph and opens a session on it. */
export async function openGraphSession(
  platform: RuntimePlatform,
  fingerprint: string,
  graphName: string,
  build: () => ModelProto,
  options: SessionOptions,
): Promise<InferenceSession> {
  const key = `${graphName}-${(await sha256Hex(`${fingerprint}|${GRAPH_BUILDER_VERSION}|${graphName}`)).slice(0, 32)}`;
  const cache = platform.graphCache;
  let bytes = cache ? await cache.get(key) : undefined;
  if (!bytes) {
    bytes = encodeModel(build()).bytes;
    if (cache) await cache.put(key, bytes);
  }
  return platform.createSession(bytes, options);
}

export interface ModelSessions {
  vision: InferenceSession;
  embed: InferenceSession;
  decoder: InferenceSession;
}

export async function openModelSessions(
  platform: RuntimePlatform,
  fingerprint: string,
  config: LlavaConfig,
  weights: WeightMap,
  form: DecoderForm,
  options: SessionOptions,
): Promise<ModelSessions> {
  const vision = await openGraphSession(
    platform,
    fingerprint,
    'vision',
    () => emitVisionGraph(config, weights),
    options,
  );
  const embed = await openGraphSession(
    platform,
    fingerprint,
    'embed',
    () => emitEmbedGraph(config, weights),
    options,
  );
  const decoder = await openDecoderSession(platform, fingerprint, config, weights, form, options);
  return { vision, embed, decoder };
}

export function openDecoderSession(
  platform: RuntimePlatform,
  fingerprint: string,
  config: LlavaConfig,
  weights: WeightMap,
  form: DecoderForm,
  options: SessionOptions,
): Promise<InferenceSession> {
  return openGraphSession(
    platform,
    fingerprint,
    `decoder-${decoderFormKey(form)}`,
    () => emitDecoderGraph(config, weights, form),
    options,
  );
}
