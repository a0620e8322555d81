import { ShortvError } from '../errors.ts';

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
/** Objects come back with a null prototype, so keys like "__proto__" are plain data. */
export interface JsonObject {
  [key: string]: JsonValue;
}

export interface JsonErrorCodes {
  syntax: string;
  duplicate: string;
}

// Deep enough for any real header or index (they are two or three levels deep), shallow enough
// that hostile nesting cannot exhaust the stack.
const MAX_DEPTH = 64;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/**
 * A strict RFC 8259 parser that, unlike JSON.parse, refuses an object with the same key twice:
 * JSON.parse keeps the last one silently, which would let two readers of one file see different
 * tensors.
 */
export function parseJsonStrict(text: string, what: string, codes: JsonErrorCodes): JsonValue {
  let pos = 0;

  const fail = (message: string): never => {
    throw new ShortvError(codes.syntax, `${what} is not valid JSON: ${message} at character ${pos}`);
  };

  const skipSpace = (): void => {
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      pos += 1;
    }
  };

  const parseString = (): string => {
    pos += 1;
    let out = '';
    let chunkStart = pos;
    while (true) {
      if (pos >= text.length) fail('unterminated string');
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        out += text.slice(chunkStart, pos);
        pos += 1;
        return out;
      }
      if (c < 0x20) fail('control character in string');
      if (c !== 0x5c) {
        pos += 1;
        continue;
      }
      out += text.slice(chunkStart, pos);
      const e = text[pos + 1];
      if (e === 'u') {
        const hex = text.slice(pos + 2, pos + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
        out += String.fromCharCode(Number.parseInt(hex, 16));
        pos += 6;
      } else if (e !== undefined && ESCAPES[e] !== undefined) {
        out += ESCAPES[e];
        pos += 2;
      } else {
        fail('bad escape');
      }
      chunkStart = pos;
    }
  };

  const parseValue = (depth: number, path: string): JsonValue => {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH} levels`);
    skipSpace();
    const c = text[pos];
    if (c === '{') {
      pos += 1;
      const object: JsonObject = Object.create(null);
      skipSpace();
      if (text[pos] === '}') {
        pos += 1;
        return object;
      }
      while (true) {
        skipSpace();
        if (text[pos] !== '"') fail('expected a string key');
        const key = parseString();
        if (Object.hasOwn(object, key)) {
          throw new ShortvError(
            codes.duplicate,
            `${what} has the key ${JSON.stringify(key)} twice${path ? ` in ${path}` : ''}; a file with duplicate names is ambiguous`,
          );
        }
        skipSpace();
        if (text[pos] !== ':') fail("expected ':'");
        pos += 1;
        object[key] = parseValue(depth + 1, path ? `${path}.${key}` : key);
        skipSpace();
        if (text[pos] === ',') {
          pos += 1;
          continue;
        }
        if (text[pos] === '}') {
          pos += 1;
          return object;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      pos += 1;
      const list: JsonValue[] = [];
      skipSpace();
      if (text[pos] === ']') {
        pos += 1;
        return list;
      }
      while (true) {
        list.push(parseValue(depth + 1, `${path}[${list.length}]`));
        skipSpace();
        if (text[pos] === ',') {
          pos += 1;
          continue;
        }
        if (text[pos] === ']') {
          pos += 1;
          return list;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return parseString();
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return value;
      }
    }
    NUMBER.lastIndex = pos;
    const match = NUMBER.exec(text);
    if (match === null) return fail(c === undefined ? 'unexpected end' : `unexpected ${JSON.stringify(c)}`);
    pos += match[0].length;
    return Number(match[0]);
  };

  const value = parseValue(0, '');
  skipSpace();
  if (pos !== text.length) fail('trailing characters after the value');
  return value;
}

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
