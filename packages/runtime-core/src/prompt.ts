import { ShortvError } from '@shortv/tensor';
import type { ChatContentPart, ChatMessage, TextTokenizer } from './tokenizer.ts';

export const IMAGE_PLACEHOLDER = '<image>';

export interface PromptIds {
  /** Token ids with ONE id per image placeholder (expanded to feature rows when embedding). */
  ids: number[];
  /** Indices in `ids` where an image placeholder stands, in order. */
  imagePositions: number[];
  /** The rendered chat text the ids came from. */
  text: string;
}

function countPlaceholders(text: string): number {
  return text.split(IMAGE_PLACEHOLDER).length - 1;
}

/** The prompt as Hugging Face message parts: text split at `<image>`, or all images first when it names none. */
function promptParts(prompt: string, imageCount: number): ChatContentPart[] {
  if (countPlaceholders(prompt) === 0) {
    return [
      ...Array.from({ length: imageCount }, () => ({ type: 'image' as const })),
      { type: 'text', text: prompt },
    ];
  }
  const parts: ChatContentPart[] = [];
  prompt.split(IMAGE_PLACEHOLDER).forEach((text, i) => {
    if (i > 0) parts.push({ type: 'image' });
    if (text) parts.push({ type: 'text', text });
  });
  return parts;
}

/**
 * Turns a user prompt into ids through the model's chat template. Images go where the prompt writes
 * `<image>`; a prompt that names none gets its images in front of the text (LLaVA's training layout).
 * Templates that take HF message parts get parts; templates that only print a string get the string
 * with `<image>\n` per image in front (or the user's own placeholders).
 */
export function buildPromptIds(
  tokenizer: TextTokenizer,
  prompt: string,
  imageCount: number,
  imageTokenId: number,
): PromptIds {
  if (prompt.trim().length === 0) {
    throw new ShortvError('E_INPUT_PROMPT', 'the prompt is empty: pass the question to ask about the image');
  }
  const named = countPlaceholders(prompt);
  if (named !== 0 && named !== imageCount) {
    throw new ShortvError(
      'E_INPUT_PROMPT',
      `the prompt has ${named} ${IMAGE_PLACEHOLDER} placeholder(s) but ${imageCount} image(s) were given: ` +
        `use one ${IMAGE_PLACEHOLDER} per image, or none to put the images first`,
    );
  }
  const asString = named === 0 ? `${`${IMAGE_PLACEHOLDER}\n`.repeat(imageCount)}${prompt}` : prompt;
  const candidates: ChatMessage['content'][] = [promptParts(prompt, imageCount), asString];
  for (const content of candidates) {
    const text = tokenizer.applyChatTemplate([{ role: 'user', content }], { addGenerationPrompt: true });
    if (countPlaceholders(text) !== imageCount) continue;
    const ids = tokenizer.encode(text, { addSpecialTokens: false });
    const imagePositions: number[] = [];
    ids.forEach((id, i) => {
      if (id === imageTokenId) imagePositions.push(i);
    });
    if (imagePositions.length !== imageCount) {
      throw new ShortvError(
        'E_MODEL_TOKENIZER',
        `the chat template produced ${imagePositions.length} image token(s) for ${imageCount} image(s): ` +
          `the tokenizer must treat "${IMAGE_PLACEHOLDER}" as one special token`,
      );
    }
    return { ids, imagePositions, text };
  }
  throw new ShortvError(
    'E_MODEL_TOKENIZER',
    `the chat template does not place ${imageCount} ${IMAGE_PLACEHOLDER} token(s) for ${imageCount} image(s), ` +
      'neither from message parts nor from a string prompt',
  );
}
