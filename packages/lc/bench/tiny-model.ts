import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tinyLlavaCheckpoint, writeCheckpointFolder } from '@shortv/models/testing';
import { shapesVocabulary } from '@shortv/shapes';

/**
 * A random-weight LLaVA shaped like the first bundled model (12 layers, hidden 128, GQA 4/2 heads, 72 px
 * images in 6 px patches: 144 visual tokens) and a word-level tokenizer over the shapes vocabulary,
 * written as a Hugging Face folder: what the benchmark falls back to without the bundled model.
 */
export async function writeBenchModel(dir: string): Promise<void> {
  const checkpoint = tinyLlavaCheckpoint({
    numLayers: 12,
    numKvHeads: 2,
    seed: 12,
    textConfig: { hidden_size: 128, intermediate_size: 384, vocab_size: 64, head_dim: 32 },
    visionConfig: { hidden_size: 64, intermediate_size: 128, image_size: 72, patch_size: 6 },
  });
  await writeCheckpointFolder(dir, checkpoint);
  const imageId = checkpoint.config.imageTokenIndex;
  const specials = ['<unk>', '<s>', '</s>', '<pad>'];
  const words = ['USER', 'ASSISTANT', ':', ...shapesVocabulary()];
  const vocab: Record<string, number> = {};
  [...specials, ...words].forEach((token, id) => {
    vocab[token] = id;
  });
  vocab['<image>'] = imageId;
  const added = [...specials, '<image>'].map((content) => ({
    id: vocab[content],
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: null,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordLevel', vocab, unk_token: '<unk>' },
  };
  const files: Record<string, unknown> = {
    'tokenizer.json': tokenizer,
    'tokenizer_config.json': {
      bos_token: '<s>',
      eos_token: '</s>',
      pad_token: '<pad>',
      chat_template:
        "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}USER: {{ m['content'] }} ASSISTANT:{% else %} {{ m['content'] }}{{ eos_token }}{% endif %}{% endfor %}",
    },
    'preprocessor_config.json': {
      do_resize: true,
      size: { shortest_edge: 72 },
      resample: 3,
      do_center_crop: true,
      crop_size: { height: 72, width: 72 },
      do_rescale: true,
      rescale_factor: 1 / 255,
      do_normalize: true,
      image_mean: [0.48145466, 0.4578275, 0.40821073],
      image_std: [0.26862954, 0.26130258, 0.27577711],
    },
    'generation_config.json': { bos_token_id: 1, eos_token_id: 2, max_new_tokens: 8 },
  };
  for (const [name, value] of Object.entries(files)) {
    await writeFile(join(dir, name), JSON.stringify(value));
  }
}
