import { describe, expect, it } from 'vitest';
import { cli } from './helpers.ts';

describe('shortv bench --peer', () => {
  it('refuses an unknown peer before any work', async () => {
    const r = await cli([
      'bench',
      '--preset',
      'onevision-0.5b',
      '--peer',
      'llama.cpp',
      '--cache-dir',
      '/tmp',
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: unknown --peer "llama\.cpp": use transformers\.js/);
  });
});
