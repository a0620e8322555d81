import { describe, expect, it } from 'vitest';
import { CLI_VERSION, runCli } from '../src/index.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t), interactive: false },
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

describe('shortv cli', () => {
  it('prints its version', async () => {
    const c = capture();
    expect(await runCli(['--version'], c.io)).toBe(0);
    expect(c.out().trim()).toBe(CLI_VERSION);
  });

  it('lists commands with --help', async () => {
    const c = capture();
    expect(await runCli(['--help'], c.io)).toBe(0);
    expect(c.out()).toContain('demo');
  });

  it('names an unknown command and exits 1 without a stack', async () => {
    const c = capture();
    expect(await runCli(['frobnicate'], c.io)).toBe(1);
    expect(c.err()).toContain('unknown command "frobnicate"');
    expect(c.err()).not.toContain('    at ');
  });

  it('rejects an unknown flag with the usage line', async () => {
    const c = capture();
    expect(await runCli(['demo', '--nope'], c.io)).toBe(1);
    expect(c.err()).toContain('Usage: shortv demo');
  });
});
