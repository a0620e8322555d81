import { ShortvError } from '@shortv/tensor';
import type { TextTokenizer } from './tokenizer.ts';

export const IMAGE_PLACEHOLDER = '<image>';

export interface PromptIds {
  /** Token ids with ONE id per image placeholder (expanded to feature rows when embedding). */
  ids: number[];
  /** Indices in `ids` where an image placeholder stands, in order. */
  imagePositions: number[];
  /** The rendered chat text the ids came from. */
  text: string;
}

/**
 * Turns a user prompt into ids. A prompt that names no `<image>` while images are given gets one
 * `<image>\n` per image in front of the text (LLaVA's training layout: image first, then the question).
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
  const named = prompt.split(IMAGE_PLACEHOLDER).length - 1;
  let content = prompt;
  if (named === 0 && imageCount > 0) {
    content = `${`${IMAGE_PLACEHOLDER}\n`.repeat(imageCount)}${prompt}`;
  } else if (named !== imageCount) {
    throw new ShortvError(
      'E_INPUT_PROMPT',
      `the prompt has ${named} ${IMAGE_PLACEHOLDER} placeholder(s) but ${imageCount} image(s) were given: ` +
        `use one ${IMAGE_PLACEHOLDER} per image, or none to put the images first`,
    );
  }
  const text = tokenizer.applyChatTemplate([{ role: 'user', content }], { addGenerationPrompt: true });
  const ids = tokenizer.encode(text, { addSpecialTokens: true });
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
