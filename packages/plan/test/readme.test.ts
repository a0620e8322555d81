import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePlan, serializePlan } from '../src/index.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('shows an example plan that validates and is written exactly as serializePlan writes it', () => {
    const block = /```json\n([\s\S]*?\n)```/.exec(readme);
    expect(block).not.toBeNull();
    const plan = parsePlan(block![1]!);
    expect(plan.layers.length).toBeGreaterThan(0);
    expect(serializePlan(plan)).toBe(block![1]);
  });
});
