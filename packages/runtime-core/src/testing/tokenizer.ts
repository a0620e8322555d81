/** A word-level tokenizer in Hugging Face tokenizers format (WordPiece over whole words). */
export function wordTokenizerJson(words: readonly string[], imageId = 4) {
  const ordered = ['<unk>', '<s>', '</s>', '<pad>', ...words];
  ordered.splice(imageId, 0, '<image>');
  const vocab: Record<string, number> = {};
  for (const w of ordered) vocab[w] = Object.keys(vocab).length;
  const specials = ['<unk>', '<s>', '</s>', '<pad>', '<image>'];
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((content) => ({
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

export const TINY_TOKENIZER_CONFIG = {
  bos_token: '<s>',
  eos_token: '</s>',
  pad_token: '<pad>',
  chat_template:
    "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}USER: {{ m['content'] }} {% else %}ASSISTANT: {{ m['content'] }}{{ eos_token }}{% endif %}{% endfor %}{% if add_generation_prompt %}ASSISTANT:{% endif %}",
};

export const TINY_WORDS = [
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
