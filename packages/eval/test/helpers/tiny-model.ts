import { type ModelFolder, memoryModelFolder } from '@shortv/models';
import { checkpointFiles, tinyLlavaCheckpoint } from '@shortv/models/testing';
import { parsePlan } from '@shortv/plan';
import type { RuntimePlatform } from '@shortv/runtime-core';
import type { EvalSample } from '../../src/index.ts';

const WORDS = [
  'USER',
  ':',
  'ASSISTANT',
  'what',
  'color',
  'is',
  'the',
  'circle',
  '?',
  'red',
  'blue',
  'a',
  'large',
];

/** A word-level tokenizer (Hugging Face WordPiece over whole words) whose <image> id is `imageId`. */
function wordTokenizerJson(words: readonly string[], imageId: number) {
  const ordered = ['<unk>', '<s>', '</s>', '<pad>', ...words];
  ordered.splice(imageId, 0, '<image>');
  const vocab: Record<string, number> = {};
  for (const w of ordered) vocab[w] = Object.keys(vocab).length;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: ['<unk>', '<s>', '</s>', '<pad>', '<image>'].map((content) => ({
      id: vocab[content],
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '<unk>',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab,
    },
  };
}

const TOKENIZER_CONFIG = {
  bos_token: '<s>',
  eos_token: '</s>',
  pad_token: '<pad>',
  chat_template:
    "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}USER: {{ m['content'] }} {% else %}ASSISTANT: {{ m['content'] }}{{ eos_token }}{% endif %}{% endfor %}{% if add_generation_prompt %}ASSISTANT:{% endif %}",
};

/** A random-weight tiny LLaVA (3 decoder layers, 16 px images) in memory, with a 64-word tokenizer. */
export function tinyModelFolder(): ModelFolder {
  const checkpoint = tinyLlavaCheckpoint({ numKvHeads: 2 });
  const config = checkpoint.config;
  const fillers = Array.from({ length: config.text.vocabSize - 5 - WORDS.length }, (_, i) => `w${i}`);
  const files = {
    ...checkpointFiles(checkpoint, 1),
    'tokenizer.json': JSON.stringify(wordTokenizerJson([...WORDS, ...fillers], config.imageTokenIndex)),
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
  return memoryModelFolder(files, 'tiny-llava');
}

/** onnxruntime-node with one thread per operator: the tests share the machine with other work. */
export async function nodePlatform(): Promise<RuntimePlatform> {
  const ort = await import('onnxruntime-node');
  return {
    name: 'onnxruntime-node',
    createSession: (bytes) =>
      ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 }),
    createTensor: (type, data, dims) => new ort.Tensor(type, data as never, [...dims]),
  };
}

export function freezePlan(fingerprint: string, layers: number[], numLayers = 3) {
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

/** A deterministic RGB image; different seeds give different pictures (and so different answers). */
export function testImage(width: number, height: number, seed: number) {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + seed * 101 + ((i * i + seed) % 13) * 7) % 256;
  return { width, height, data };
}

const FAMILIES = ['color_of_shape', 'count', 'exists', 'describe'];
const QUESTIONS = [
  'what color is the circle?',
  'what is the large circle?',
  'is the circle red?',
  'what is a circle?',
];

/** Eval samples over a few families with placeholder answers (tests replace them as they need). */
export function tinySamples(count: number): EvalSample[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `s${i}`,
    family: FAMILIES[i % FAMILIES.length]!,
    question: QUESTIONS[i % QUESTIONS.length]!,
    answer: 'red',
    loadImage: async () => testImage(20, 16, i + 1),
  }));
}
