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
  // The graph cache folder is the user's (--cache-dir, SHORTV_CACHE_DIR); E_CACHE_KEY stays ours.
  'E_CACHE_IO',
  'E_CACHE_DIR',
  'E_FILE_NOT_FOUND',
  'E_FILE_OPEN',
  'E_FILE_NOT_A_FILE',
];

/** Node's file-system errors (ENOENT, EISDIR, EACCES, ...): a path the user gave, not a defect. */
const FS_ERROR_CODES = new Set([
  'ENOENT',
  'EISDIR',
  'ENOTDIR',
  'EACCES',
  'EPERM',
  'EEXIST',
  'EROFS',
  'ENOSPC',
  'ENAMETOOLONG',
  'ELOOP',
  'EMFILE',
]);

export function fileSystemError(error: unknown): (Error & { code: string; path?: string }) | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && FS_ERROR_CODES.has(code)
    ? (error as Error & { code: string; path?: string })
    : undefined;
}

export function isUserError(error: unknown): error is ShortvError {
  return error instanceof ShortvError && USER_CODE_PREFIXES.some((p) => error.code.startsWith(p));
}
