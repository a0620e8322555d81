import { describe, expect, it } from 'vitest';
import { buildPromptIds, StreamingDetokenizer, TextTokenizer } from '../src/index.ts';
import { TINY_TOKENIZER_CONFIG, TINY_WORDS, wordTokenizerJson } from '../src/testing/index.ts';

const tokenizer = new TextTokenizer(wordTokenizerJson(TINY_WORDS), TINY_TOKENIZER_CONFIG);
const imageId = tokenizer.requireTokenId('<image>', 'image');

describe('prompt building', () => {
  it('puts the image first when the prompt names none', () => {
    const p = buildPromptIds(tokenizer, 'what color is the circle?', 1, imageId);
    expect(p.text).toBe('<s>USER: <image>\nwhat color is the circle? ASSISTANT:');
    expect(p.imagePositions).toHaveLength(1);
    expect(p.ids[0]).toBe(tokenizer.tokenId('<s>'));
    expect(p.ids[p.imagePositions[0]!]).toBe(imageId);
    expect(tokenizer.decode(p.ids)).toBe('USER : what color is the circle? ASSISTANT :');
  });

  it('keeps an explicit placeholder where the user put it', () => {
    const p = buildPromptIds(tokenizer, 'what color is <image> the circle?', 1, imageId);
    const words = p.ids.map((id) => tokenizer.decode([id], { skipSpecialTokens: false }));
    expect(words.indexOf('<image>')).toBe(words.indexOf('is') + 1);
  });

  it('refuses an empty prompt and a placeholder count that disagrees with the images', () => {
    expect(() => buildPromptIds(tokenizer, '   ', 1, imageId)).toThrow(/prompt is empty/);
    expect(() => buildPromptIds(tokenizer, '<image> <image> what', 1, imageId)).toThrow(
      /2 <image> placeholder/,
    );
  });
});

describe('StreamingDetokenizer', () => {
  it('decodes an empty answer (EOS first) to the empty string', () => {
    expect(new StreamingDetokenizer(tokenizer).text()).toBe('');
  });

  it('streams chunks that concatenate to the full decode', () => {
    const ids = tokenizer.encode('a large red circle', { addSpecialTokens: false });
    const stream = new StreamingDetokenizer(tokenizer);
    const chunks = ids.map((id) => stream.push(id));
    expect(chunks.join('')).toBe(stream.text());
    expect(stream.text()).toBe('a large red circle');
    expect(chunks.filter((c) => c.length > 0).length).toBe(4);
  });
});

describe('templates that take Hugging Face message parts', () => {
  const partsTemplate =
    "{{ bos_token }}{% for m in messages %}USER: {% if m['content'] is string %}{{ m['content'] }}{% else %}" +
    "{% for p in m['content'] %}{% if p['type'] == 'image' %}<image>\n{% else %}{{ p['text'] }}{% endif %}{% endfor %}" +
    '{% endif %} ASSISTANT:{% endfor %}';
  const parts = new TextTokenizer(wordTokenizerJson(TINY_WORDS), {
    ...TINY_TOKENIZER_CONFIG,
    chat_template: partsTemplate,
  });

  it('passes images as parts, where the user put them', () => {
    const first = buildPromptIds(parts, 'what color is the circle?', 1, imageId);
    expect(first.text).toBe('<s>USER: <image>\nwhat color is the circle? ASSISTANT:');
    const inline = buildPromptIds(parts, 'what color is <image> the circle?', 1, imageId);
    expect(inline.text).toBe('<s>USER: what color is <image>\n the circle? ASSISTANT:');
    expect(inline.ids.filter((id) => id === tokenizer.tokenId('<s>'))).toHaveLength(1);
  });
});
