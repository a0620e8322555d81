import { type LlavaConfig, type ModelFolder, memoryModelFolder, parseLlavaConfig } from '@shortv/models';
import { checkpointFiles, type TinyLlavaOptions, tinyLlavaCheckpoint } from '@shortv/models/testing';
import { TOKENIZER_CONFIG, WORDS, wordTokenizerJson } from './fixtures.ts';

/** A random-weight tiny LLaVA folder in memory, with a 64-word tokenizer whose <image> id is the config's. */
export function tinyModelFolder(options: TinyLlavaOptions = {}): {
  folder: ModelFolder;
  config: LlavaConfig;
} {
  const checkpoint = tinyLlavaCheckpoint(options);
  const config = parseLlavaConfig(checkpoint.configJson);
  const vocab = config.text.vocabSize;
  const fillers = Array.from({ length: vocab - 5 - WORDS.length }, (_, i) => `w${i}`);
  const tokenizer = wordTokenizerJson([...WORDS, ...fillers], config.imageTokenIndex);
  const files = {
    ...checkpointFiles(checkpoint, 1),
    'tokenizer.json': JSON.stringify(tokenizer),
    'tokenizer_config.json': JSON.stringify(TOKENIZER_CONFIG),
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

/** A deterministic RGB test image. */
export function testImage(width: number, height: number, seed = 1) {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + seed * 101 + ((i * i) % 13) * 7) % 256;
  return { width, height, data };
}
