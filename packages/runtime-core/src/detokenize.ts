import type { TextTokenizer } from './tokenizer.ts';

/**
 * Emits text chunks as tokens arrive. Decoding the whole answer each step (and emitting only the new
 * suffix) keeps word-joining and byte-level merges right, which per-token decoding gets wrong.
 * A trailing U+FFFD (an incomplete multi-byte character) is held back until it completes.
 */
export class StreamingDetokenizer {
  private readonly ids: number[] = [];
  private emitted = '';

  constructor(private readonly tokenizer: TextTokenizer) {}

  push(id: number): string {
    this.ids.push(id);
    const text = this.tokenizer.decode(this.ids, { skipSpecialTokens: true });
    if (text.endsWith('\uFFFD')) return '';
    if (!text.startsWith(this.emitted)) {
      // A later token rewrote earlier text (rare clean-up rules): emit nothing now, the final
      // text() is authoritative.
      return '';
    }
    const chunk = text.slice(this.emitted.length);
    this.emitted = text;
    return chunk;
  }

  text(): string {
    return this.tokenizer.decode(this.ids, { skipSpecialTokens: true });
  }

  get tokenIds(): readonly number[] {
    return this.ids;
  }
}
