import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { freezePlanJsonSchemaText } from '../src/index.ts';

const packageFile = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

describe('shipped JSON Schema', () => {
  it('is what the zod schema generates now (run `pnpm --filter @shortv/plan gen:schema` after a schema change)', () => {
    expect(packageFile('schema/freeze-plan.v1.json')).toBe(freezePlanJsonSchemaText());
  });

  it('is exported and published with the package', () => {
    const manifest = JSON.parse(packageFile('package.json'));
    expect(manifest.exports['./schema/freeze-plan.v1.json']).toBe('./schema/freeze-plan.v1.json');
    expect(manifest.files).toContain('schema');
  });

  it('forbids unknown fields at every object level', () => {
    const schema = JSON.parse(packageFile('schema/freeze-plan.v1.json'));
    const objects: Record<string, unknown>[] = [];
    const visit = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(visit);
      else if (node && typeof node === 'object') {
        const record = node as Record<string, unknown>;
        if (record.type === 'object') objects.push(record);
        Object.values(record).forEach(visit);
      }
    };
    visit(schema);
    expect(objects.length).toBeGreaterThanOrEqual(7);
    expect(objects.every((object) => object.additionalProperties === false)).toBe(true);
  });
});
