import { ShortvError } from '@shortv/tensor';

/** A mistake the user can fix (bad flag, missing file): printed without a stack, exit code 1. */
export class UsageError extends ShortvError {
  constructor(message: string) {
    super('E_USAGE', message);
    this.name = 'UsageError';
  }
}

/** Error codes that describe the user's input rather than a defect of ours. */
const USER_CODE_PREFIXES = [
  'E_USAGE',
  'E_INPUT',
  'E_PLAN',
  'E_SAFETENSORS',
  'E_MODEL',
  'E_DATA',
  'E_IMAGE',
  'E_ABORTED',
];

export function isUserError(error: unknown): error is ShortvError {
  return error instanceof ShortvError && USER_CODE_PREFIXES.some((p) => error.code.startsWith(p));
}
