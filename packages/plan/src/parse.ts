import { ShortvError } from '@shortv/tensor';
import type { z } from 'zod';
import { type FreezePlan, freezePlanSchema, PLAN_FORMAT, PLAN_VERSION } from './schema.ts';

/** One problem found in a plan: where (`$.layers[3].index`) and what. */
export interface PlanIssue {
  path: string;
  message: string;
}

/** A plan that does not satisfy the v1 schema. `issues` lists every problem found. */
export class PlanValidationError extends ShortvError {
  readonly issues: readonly PlanIssue[];

  constructor(issues: readonly PlanIssue[]) {
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    const lines = issues.map((issue) => `  ${issue.path}: ${issue.message}`).join('\n');
    super(
      'E_PLAN_INVALID',
      `Invalid freeze plan (${count}):\n${lines}\nFix these fields, or write a new plan with \`shortv plan\`.`,
    );
    this.name = 'PlanValidationError';
    this.issues = issues;
  }
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Renders a path as JSONPath: `['layers', 3, 'index']` -> `$.layers[3].index`. */
export function jsonPath(path: readonly PropertyKey[]): string {
  let out = '$';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && IDENTIFIER.test(key)) out += `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

function toPlanIssues(issues: readonly z.core.$ZodIssue[]): PlanIssue[] {
  const out: PlanIssue[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      // One issue per key, pointing at the key itself, so each can be found and removed.
      for (const key of issue.keys) {
        out.push({ path: jsonPath([...issue.path, key]), message: `unknown field ${JSON.stringify(key)}` });
      }
    } else {
      out.push({ path: jsonPath(issue.path), message: issue.message });
    }
  }
  return out;
}

// A plan of another version may be shaped differently throughout; reporting every field against
// the v1 shape would bury the one fact that matters.
function versionIssue(value: unknown): PlanIssue | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const record = value as Record<string, unknown>;
  if (record.format !== PLAN_FORMAT || !('version' in record) || record.version === PLAN_VERSION) return null;
  return {
    path: '$.version',
    message: `plan version ${JSON.stringify(record.version)} is not supported; this build reads version ${PLAN_VERSION}`,
  };
}

/**
 * Validates a freeze plan given as parsed JSON or as JSON text.
 * Throws `PlanValidationError` (E_PLAN_INVALID) listing every problem, or E_PLAN_JSON for text that is not JSON.
 */
export function parsePlan(json: unknown): FreezePlan {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (cause) {
      const detail = cause instanceof Error ? cause.message : String(cause);
      throw new ShortvError(
        'E_PLAN_JSON',
        `Freeze plan is not valid JSON (${detail}). Check the file is a plan written by \`shortv plan\`.`,
        { cause },
      );
    }
  }
  const wrongVersion = versionIssue(value);
  if (wrongVersion) throw new PlanValidationError([wrongVersion]);
  const result = freezePlanSchema.safeParse(value);
  if (!result.success) throw new PlanValidationError(toPlanIssues(result.error.issues));
  return result.data;
}

const KEY_ORDER: readonly (keyof FreezePlan)[] = [
  'format',
  'version',
  'model',
  'layers',
  'prune',
  'withdraw',
  'lc',
  'calibration',
  'estimate',
  'createdAt',
];

const INLINE_WIDTH = 100;

const isPrimitive = (value: unknown): boolean => value === null || typeof value !== 'object';

// JSON.stringify(…, 2) puts every number of an LC array on its own line; this keeps flat arrays
// and short flat objects on one line so a plan stays readable and diffs well.
function format(value: unknown, indent: string): string {
  if (isPrimitive(value)) return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every(isPrimitive)) return `[${value.map((item) => JSON.stringify(item)).join(', ')}]`;
    return `[\n${value.map((item) => inner + format(item, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return '{}';
  const flatObject = entries.every(([, v]) => isPrimitive(v));
  const parts = entries.map(([k, v]) => `${JSON.stringify(k)}: ${format(v, inner)}`);
  const oneLine = `{ ${parts.join(', ')} }`;
  if (flatObject && oneLine.length + indent.length <= INLINE_WIDTH) return oneLine;
  return `{\n${parts.map((part) => inner + part).join(',\n')}\n${indent}}`;
}

/**
 * Writes a plan as pretty JSON text with a fixed key order and layers sorted by index, so the same
 * plan always gives the same bytes. The plan is validated first: an invalid plan is never written.
 */
export function serializePlan(plan: FreezePlan): string {
  const valid = parsePlan(plan);
  const ordered: Record<string, unknown> = {};
  for (const key of KEY_ORDER) {
    if (valid[key] !== undefined) ordered[key] = valid[key];
  }
  ordered.layers = [...valid.layers].sort((a, b) => a.index - b.index);
  return `${format(ordered, '')}\n`;
}
