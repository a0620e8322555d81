import {
  type ExternalWeightRef,
  ExternalWeights,
  type LlavaConfig,
  type LlavaWeights,
  listStoredWeights,
  type ModelFolder,
  materializeWeight,
  quantizeLinear,
  type StoredWeight,
  type WeightQuantization,
} from '@shortv/models';
import { parseSafetensorsIndex, ShortvError, type Tensor } from '@shortv/tensor';
import type { WeightsFile, WeightsStore } from './platform.ts';
import { GRAPH_BUILDER_VERSION } from './sessions.ts';

const SAMPLED_PAGES = 8;
const PAGE_BYTES = 4096;

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * A digest of a folder's checkpoint that reads a few KiB per file instead of every weight: each
 * safetensors file's header (names, dtypes, shapes, offsets), its size, and 8 pages of 4 KiB spread evenly
 * over its tensor data, the first and the last included. Two checkpoints of one architecture (a base
 * model and its fine-tune) differ in nearly every weight, so the sampled pages tell them apart; mtimes
 * are left out so a copied folder keeps its cached weights. A checkpoint edited only outside the sampled
 * pages keeps the old digest: `shortv cache clear` is the remedy for such hand edits.
 */
export async function checkpointDigest(folder: ModelFolder): Promise<string> {
  const files = (await folder.exists('model.safetensors.index.json'))
    ? [
        ...new Set(
          parseSafetensorsIndex(await folder.readText('model.safetensors.index.json')).weightMap.values(),
        ),
      ]
    : ['model.safetensors'];
  const parts: Uint8Array[] = [];
  const text = new TextEncoder();
  for (const file of files.sort()) {
    const source = await folder.open(file);
    try {
      parts.push(text.encode(`${file}|${source.size}|`));
      if (source.size < 8) continue;
      const headerBytes = Number(
        new DataView((await source.read(0, 8)).slice().buffer).getBigUint64(0, true),
      );
      const dataStart = Math.min(source.size, 8 + headerBytes);
      parts.push((await source.read(8, dataStart - 8)).slice());
      const span = source.size - dataStart;
      // Pages spread from the first byte of tensor data to the last, both ends included.
      const last = Math.max(0, span - PAGE_BYTES);
      for (let i = 0; i < SAMPLED_PAGES && span > 0; i++) {
        const at = dataStart + Math.floor((last * i) / (SAMPLED_PAGES - 1));
        parts.push((await source.read(at, Math.min(PAGE_BYTES, source.size - at))).slice());
      }
    } finally {
      await source.close?.();
    }
  }
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.byteLength;
  }
  return hex(await globalThis.crypto.subtle.digest('SHA-256', all)).slice(0, 32);
}

/** Weights for the emitters that reference `file` instead of holding values. */
export function externalWeightsOf(file: WeightsFile, quantization?: WeightQuantization): ExternalWeights {
  return new ExternalWeights(
    {
      ref(weight: StoredWeight): ExternalWeightRef {
        const entry = file.entries.get(weight.stored);
        if (!entry) {
          throw new ShortvError(
            'E_RUNTIME_WEIGHTS_FILE',
            `the weights file ${file.location} has no ${weight.stored}; delete it (shortv cache clear) and load the model again`,
          );
        }
        return { location: file.location, offset: entry.offset, length: entry.length, dims: entry.dims };
      },
    },
    quantization,
  );
}

/** How the decoder's Linear weights are held: fp32, or block-quantized to 4 or 8 bits (MatMulNBits). */
export type WeightFormat = 'fp32' | 'int4' | 'int8';

/** Block size of the quantized formats: onnxruntime-genai's choice for int4, a multiple of every head size. */
export const QUANT_BLOCK_SIZE = 32;

export function quantizationOf(format: WeightFormat): WeightQuantization | undefined {
  if (format === 'fp32') return undefined;
  if (format === 'int4') return { bits: 4, blockSize: QUANT_BLOCK_SIZE };
  if (format === 'int8') return { bits: 8, blockSize: QUANT_BLOCK_SIZE };
  throw new ShortvError('E_RUNTIME_OPTION', `weights must be fp32, int4 or int8, got '${String(format)}'`);
}

/**
 * The model's weights file from the platform's store, written on first use one tensor at a time: each
 * checkpoint tensor is read (fp16/bf16 converted to fp32 for that tensor alone), transformed as the
 * graphs store it, appended, and dropped, so memory never holds more than one tensor.
 */
export async function openWeightsFile(
  store: WeightsStore,
  folder: ModelFolder,
  config: LlavaConfig,
  weights: LlavaWeights,
  fingerprint: string,
  format: WeightFormat = 'fp32',
): Promise<{ file: WeightsFile; digest: string }> {
  const digest = await checkpointDigest(folder);
  const quantization = quantizationOf(format);
  const stored = listStoredWeights(config, (name) => weights.shape(name), quantization);
  const keyText = `${fingerprint}|${digest}|${GRAPH_BUILDER_VERSION}|${format}`;
  const key = hex(await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(keyText))).slice(
    0,
    32,
  );
  const file = await store.open(key, async (writer) => {
    // A quantized weight's packed blocks and scales come from one quantization of one read.
    let last: { source: string; quantized: ReturnType<typeof quantizeLinear> } | undefined;
    for (const weight of stored) {
      let tensor: Tensor;
      if ((weight.transform === 'quantized' || weight.transform === 'scales') && quantization) {
        if (last?.source !== weight.source) {
          last = {
            source: weight.source,
            quantized: quantizeLinear(await weights.read(weight.source), quantization),
          };
        }
        tensor = weight.transform === 'quantized' ? last.quantized.packed : last.quantized.scales;
      } else {
        tensor = materializeWeight(weight, await weights.read(weight.source));
      }
      await writer.append(weight.stored, tensor.bytes(), tensor.dims);
    }
  });
  return { file, digest };
}
