import { writeFileSync } from 'node:fs';
import { freezePlanJsonSchemaText } from '../src/schema.ts';

const target = new URL('../schema/freeze-plan.v1.json', import.meta.url);
writeFileSync(target, freezePlanJsonSchemaText());
console.log(`wrote ${target.pathname}`);
