import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { ShortvError } from '@shortv/tensor';

/** Hugging Face's multimodal message parts: images stand where the template should put `<image>`. */
export type ChatContentPart = { type: 'text'; text: string } | { type: 'image' };

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string | readonly ChatContentPart[];
}

interface TokenizerConfigJson {
  chat_template?: string | Array<{ name: string; template: string }>;
  bos_token?: string | { content: string };
  eos_token?: string | { content: string };
  pad_token?: string | { content: string } | null;
  add_bos_token?: boolean;
}

function tokenContent(token: string | { content: string } | null | undefined): string | undefined {
  if (token == null) return undefined;
  return typeof token === 'string' ? token : token.content;
}

/**
 * The model's tokenizer (tokenizer.json through @huggingface/tokenizers) and its chat template
 * (tokenizer_config.json through @huggingface/jinja), the two things that turn a user prompt into ids.
 */
export class TextTokenizer {
  readonly bosToken: string | undefined;
  readonly eosToken: string | undefined;
  readonly padToken: string | undefined;
  private readonly tokenizer: Tokenizer;
  private readonly template: Template | undefined;

  constructor(tokenizerJson: unknown, tokenizerConfig: unknown) {
    if (typeof tokenizerJson !== 'object' || tokenizerJson === null) {
      throw new ShortvError('E_MODEL_TOKENIZER', 'tokenizer.json is not a JSON object');
    }
    const config = (tokenizerConfig ?? {}) as TokenizerConfigJson;
    try {
      this.tokenizer = new Tokenizer(tokenizerJson, config);
    } catch (error) {
      throw new ShortvError(
        'E_MODEL_TOKENIZER',
        `tokenizer.json could not be loaded: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    this.bosToken = tokenContent(config.bos_token);
    this.eosToken = tokenContent(config.eos_token);
    this.padToken = tokenContent(config.pad_token);
    const chat = config.chat_template;
    const source = Array.isArray(chat) ? chat.find((t) => t.name === 'default')?.template : chat;
    this.template = source ? new Template(source) : undefined;
  }

  get hasChatTemplate(): boolean {
    return this.template !== undefined;
  }

  encode(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).ids;
  }

  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    // @huggingface/tokenizers refuses an empty list; an answer that ends at once is the empty string.
    if (ids.length === 0) return '';
    return this.tokenizer.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? true });
  }

  tokenId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }

  requireTokenId(token: string, what: string): number {
    const id = this.tokenId(token);
    if (id === undefined) {
      throw new ShortvError('E_MODEL_TOKENIZER', `the tokenizer has no ${what} token "${token}"`);
    }
    return id;
  }

  /**
   * Renders the chat template; without one, falls back to LLaVA-1.5's "<s>USER: ... ASSISTANT:" layout.
   * The result already holds the special tokens the template writes (BOS): encode it without adding more.
   */
  applyChatTemplate(
    messages: readonly ChatMessage[],
    options: { addGenerationPrompt?: boolean } = {},
  ): string {
    const addGenerationPrompt = options.addGenerationPrompt ?? true;
    if (!this.template) {
      const turns = messages.map((m) =>
        m.role === 'assistant' ? `ASSISTANT: ${m.content}` : `USER: ${m.content}`,
      );
      return `${this.bosToken ?? ''}${turns.join(' ')}${addGenerationPrompt ? ' ASSISTANT:' : ''}`;
    }
    return this.template.render({
      messages,
      add_generation_prompt: addGenerationPrompt,
      bos_token: this.bosToken ?? '',
      eos_token: this.eosToken ?? '',
    });
  }
}
