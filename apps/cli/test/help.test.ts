import { describe, expect, it } from 'vitest';
import { undocumentedOptions } from '../src/help.ts';
import { COMMANDS } from '../src/index.ts';
import { cli } from './helpers.ts';

describe('shortv help', () => {
  it('documents every option of every command', () => {
    for (const command of COMMANDS) {
      expect({ command: command.path.join(' '), missing: undocumentedOptions(command) }).toEqual({
        command: command.path.join(' '),
        missing: [],
      });
    }
  });

  it('describes each option of a command with its default, the cache options included', async () => {
    const r = await cli(['calibrate', '--help']);
    expect(r.code).toBe(0);
    for (const flag of [
      '--cache-dir DIR',
      '--no-cache',
      '--threads N',
      '--data PATH',
      '--resume',
      '--json',
    ]) {
      expect(r.out).toContain(flag);
    }
    expect(r.out).toMatch(/--samples N .*\(default: 40\)/);
    expect(r.out).toMatch(/--threads N .*\(default: 1\)/);
    expect(r.out).toContain('$SHORTV_CACHE_DIR');
    expect(r.out).toContain('"question"');
  });

  it('prints the command list and exits 0 when run bare', async () => {
    const r = await cli([]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Commands:');
    expect(r.out).toContain('SHORTV_CACHE_DIR');
  });

  it('accepts the `--` that `pnpm demo -- --json` forwards', async () => {
    const r = await cli(['inspect', '--', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).architecture).toBe('llava');
  });
});
