import { runCli } from '../src/index.ts';

/** Runs the CLI in-process and captures what it prints. */
export async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, {
    stdout: (t: string) => out.push(t),
    stderr: (t: string) => err.push(t),
    interactive: false,
  });
  return { code, out: out.join(''), err: err.join('') };
}
