import { type LlavaConfig, type ModelFolder, memoryModelFolder, parseLlavaConfig } from '@shortv/models';
import { checkpointFiles, type TinyLlavaOptions, tinyLlavaCheckpoint } from '@shortv/models/testing';
import { type FreezePlan, parsePlan } from '@shortv/plan';
import type { RgbImage } from '@shortv/tensor';
import { TINY_TOKENIZER_CONFIG, TINY_WORDS, wordTokenizerJson } from './tokenizer.ts';

/**
 * A random-weight tiny LLaVA folder in memory (`@shortv/models/testing`'s checkpoint), with a word
 * tokenizer filling the config's vocabulary whose <image> id is the config's, a chat template, a CLIP
 * preprocessor config and a generation config: everything `VlmEngine.load` reads.
 */
export function tinyModelFolder(options: TinyLlavaOptions = {}): {
  folder: ModelFolder;
  config: LlavaConfig;
} {
  const checkpoint = tinyLlavaCheckpoint(options);
  const config = parseLlavaConfig(checkpoint.configJson);
  const fillers = Array.from({ length: config.text.vocabSize - 5 - TINY_WORDS.length }, (_, i) => `w${i}`);
  const files = {
    ...checkpointFiles(checkpoint, 1),
    'tokenizer.json': JSON.stringify(wordTokenizerJson([...TINY_WORDS, ...fillers], config.imageTokenIndex)),
    'tokenizer_config.json': JSON.stringify(TINY_TOKENIZER_CONFIG),
    'preprocessor_config.json': JSON.stringify({
      do_resize: true,
      size: { shortest_edge: config.vision.imageSize },
      resample: 3,
      do_center_crop: true,
      crop_size: { height: config.vision.imageSize, width: config.vision.imageSize },
      do_rescale: true,
      rescale_factor: 1 / 255,
      do_normalize: true,
      image_mean: [0.48145466, 0.4578275, 0.40821073],
      image_std: [0.26862954, 0.26130258, 0.27577711],
    }),
    'generation_config.json': JSON.stringify({ bos_token_id: 1, eos_token_id: 2, max_new_tokens: 8 }),
  };
  return { folder: memoryModelFolder(files, 'tiny-llava'), config };
}

/** A deterministic RGB image; different seeds give different pictures (and so different answers). */
export function testImage(width: number, height: number, seed = 1): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + seed * 101 + ((i * i + seed) % 13) * 7) % 256;
  return { width, height, data };
}

/** A freeze plan for a model of `numLayers` layers with this fingerprint, freezing `layers`. */
export function tinyFreezePlan(fingerprint: string, layers: readonly number[], numLayers = 3): FreezePlan {
  return parsePlan({
    format: 'shortv.freeze-plan',
    version: 1,
    model: { architecture: 'llava', numLayers, fingerprint },
    layers: layers.map((index) => ({ index, visual: 'freeze' })),
    prune: null,
    withdraw: null,
    lc: null,
    calibration: null,
    estimate: null,
  });
}
