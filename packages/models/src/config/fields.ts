import { ShortvError } from '@shortv/tensor';

/** A JSON object from config.json, read with a path so every complaint names the exact field. */
export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function configError(path: string, message: string): ShortvError {
  return new ShortvError('E_MODEL_CONFIG', `config.json: ${path} ${message}`);
}

/** A field that is absent or null takes the default, as Hugging Face's config classes do. */
function present(obj: JsonObject, key: string): boolean {
  return obj[key] !== undefined && obj[key] !== null;
}

export function readInt(obj: JsonObject, key: string, fallback: number, path: string): number {
  if (!present(obj, key)) return fallback;
  const value = obj[key];
  // Past 2^53 integers are no longer exact, and no real size or id gets there.
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw configError(`${path}${key}`, `must be an integer below 2^53, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function readNonNegativeInt(obj: JsonObject, key: string, fallback: number, path: string): number {
  const value = readInt(obj, key, fallback, path);
  if (value < 0) throw configError(`${path}${key}`, `must be an integer >= 0, got ${value}`);
  return value;
}

/** Most layers a tower may have: far above any real model, low enough that per-layer lists fit memory. */
export const MAX_LAYERS = 4096;

export function readPositiveInt(
  obj: JsonObject,
  key: string,
  fallback: number,
  path: string,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const value = readInt(obj, key, fallback, path);
  if (value <= 0) throw configError(`${path}${key}`, `must be a positive integer, got ${value}`);
  if (value > max) throw configError(`${path}${key}`, `must be at most ${max}, got ${value}`);
  return value;
}

export function readOptionalInt(obj: JsonObject, key: string, path: string): number | null {
  if (!present(obj, key)) return null;
  return readPositiveInt(obj, key, 0, path);
}

export function readNumber(obj: JsonObject, key: string, fallback: number, path: string): number {
  if (!present(obj, key)) return fallback;
  const value = obj[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw configError(`${path}${key}`, `must be a finite number, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** An epsilon or a base: a finite number above zero. */
export function readPositiveNumber(obj: JsonObject, key: string, fallback: number, path: string): number {
  const value = readNumber(obj, key, fallback, path);
  if (!(value > 0)) throw configError(`${path}${key}`, `must be a number above 0, got ${value}`);
  return value;
}

export function readBool(obj: JsonObject, key: string, fallback: boolean, path: string): boolean {
  if (!present(obj, key)) return fallback;
  const value = obj[key];
  if (typeof value !== 'boolean') {
    throw configError(`${path}${key}`, `must be true or false, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function readString(obj: JsonObject, key: string, fallback: string, path: string): string {
  if (!present(obj, key)) return fallback;
  const value = obj[key];
  if (typeof value !== 'string') {
    throw configError(`${path}${key}`, `must be a string, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function readObject(obj: JsonObject, key: string, path: string): JsonObject | null {
  if (!present(obj, key)) return null;
  const value = obj[key];
  if (!isObject(value)) throw configError(`${path}${key}`, `must be an object`);
  return value;
}

export { configError };
