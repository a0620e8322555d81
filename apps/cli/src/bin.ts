#!/usr/bin/env node
import { runCli } from './cli.ts';
import { installInterruptHandlers } from './signals.ts';

installInterruptHandlers((text) => process.stderr.write(text));

const code = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  interactive: Boolean(process.stderr.isTTY),
});
process.exitCode = code;
