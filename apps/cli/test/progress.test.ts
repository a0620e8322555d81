import { describe, expect, it } from 'vitest';
import { ProgressBar } from '../src/progress.ts';

function io(interactive: boolean) {
  const err: string[] = [];
  return { io: { stdout: () => {}, stderr: (t: string) => err.push(t), interactive }, err };
}

describe('progress bar', () => {
  it('shows whole counts and a percent for fractional progress on a terminal', () => {
    const { io: tty, err } = io(true);
    const bar = new ProgressBar(tty, 'calibrating');
    bar.update(1 / 12, 8);
    bar.update(8, 8);
    expect(err.join('')).toContain('0/8 (1%)');
    expect(err.join('')).toContain('8/8 (100%)');
    expect(err.join('')).not.toMatch(/\d\.\d+\/8/);
  });

  it('writes no control characters when stderr is not a terminal', () => {
    const { io: pipe, err } = io(false);
    const bar = new ProgressBar(pipe, 'calibrating');
    for (let i = 0; i <= 40; i++) bar.update(i / 5, 8);
    bar.done('8 samples');
    expect(err.join('')).toBe(`calibrating...\n${'calibrating    8 samples'.padEnd(80)}\n`);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for control characters
    expect(err.join('')).not.toMatch(/[\r\u001b]/);
  });
});
