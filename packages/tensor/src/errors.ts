/**
 * Every error this project raises on purpose. `code` is stable (tests and callers switch on it);
 * the message says what went wrong and, where a user can act, what to do.
 */
export class ShortvError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ShortvError';
    this.code = code;
  }
}

export function isShortvError(value: unknown): value is ShortvError {
  return value instanceof ShortvError;
}
