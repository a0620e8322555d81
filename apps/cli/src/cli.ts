import { parseArgs } from 'node:util';
import type { CliIO, Command } from './command.ts';
import { benchCommand } from './commands/bench.ts';
import { cacheClearCommand, cacheLsCommand } from './commands/cache.ts';
import { calibrateCommand } from './commands/calibrate.ts';
import { datasetShapesCommand } from './commands/dataset.ts';
import { demoCommand } from './commands/demo.ts';
import { evalCommand } from './commands/eval.ts';
import { exportCommand } from './commands/export.ts';
import { inspectCommand } from './commands/inspect.ts';
import { planCommand } from './commands/plan.ts';
import { runCommand } from './commands/run.ts';
import { sweepCommand } from './commands/sweep.ts';
import { fileSystemError, isUserError, UsageError } from './errors.ts';
import { commandHelp } from './help.ts';
import { interruptExitCode, resetInterrupt } from './signals.ts';
import { CLI_VERSION } from './version.ts';

export const COMMANDS: readonly Command[] = [
  demoCommand,
  runCommand,
  inspectCommand,
  calibrateCommand,
  planCommand,
  evalCommand,
  sweepCommand,
  exportCommand,
  benchCommand,
  cacheLsCommand,
  cacheClearCommand,
  datasetShapesCommand,
];

const GLOBAL_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  json: { type: 'boolean' },
} as const;

function findCommand(argv: readonly string[]): { command: Command; rest: string[] } | undefined {
  let best: { command: Command; rest: string[] } | undefined;
  for (const command of COMMANDS) {
    const matches = command.path.every((word, i) => argv[i] === word);
    if (matches && (!best || command.path.length > best.command.path.length)) {
      best = { command, rest: argv.slice(command.path.length) };
    }
  }
  return best;
}

export function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.path.join(' ').length));
  const lines = COMMANDS.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`);
  return [
    `shortv ${CLI_VERSION} — freeze visual tokens in ineffective layers of multimodal LLMs (ShortV)`,
    '',
    'Usage: shortv <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Global options:',
    '  --json        print one JSON object instead of text',
    '  -h, --help    show help (also after a command: shortv <command> --help)',
    '  -v, --version print the version',
    '',
    'Environment:',
    '  SHORTV_CACHE_DIR  where compiled graphs are cached (default ~/.cache/shortv/graphs; --cache-dir wins)',
    '',
    'Exit codes: 0 success, 1 user error, 2 internal error, 130 interrupted (Ctrl-C), 143 terminated.',
    '',
  ].join('\n');
}

/**
 * Drops the first bare `--`: `pnpm demo -- --json` and `pnpm shortv inspect -- --json` forward it, and
 * no command takes positional arguments after it.
 */
function withoutSeparator(argv: readonly string[]): string[] {
  const at = argv.indexOf('--');
  return at < 0 ? [...argv] : [...argv.slice(0, at), ...argv.slice(at + 1)];
}

/** Runs the CLI and returns the exit code: 0 success, 1 user error, 2 internal error. */
export async function runCli(rawArgv: readonly string[], io: CliIO): Promise<number> {
  const argv = withoutSeparator(rawArgv);
  resetInterrupt();
  const wantsJson = argv.includes('--json');
  try {
    const found = findCommand(argv);
    if (!found) {
      const { values, positionals } = parseArgs({
        args: [...argv],
        options: GLOBAL_OPTIONS,
        allowPositionals: true,
        strict: false,
      });
      if (values.version) {
        io.stdout(wantsJson ? `${JSON.stringify({ version: CLI_VERSION })}\n` : `${CLI_VERSION}\n`);
        return 0;
      }
      if (values.help || positionals.length === 0) {
        io.stdout(helpText());
        return 0;
      }
      throw new UsageError(`unknown command "${positionals.join(' ')}". Run \`shortv --help\` for the list.`);
    }
    const { command, rest } = found;
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({
        args: rest,
        options: { ...GLOBAL_OPTIONS, ...command.options },
        allowPositionals: true,
        strict: true,
      });
    } catch (error) {
      throw new UsageError(`${(error as Error).message}\nUsage: ${command.usage}`);
    }
    if (parsed.values.help) {
      io.stdout(commandHelp(command));
      return 0;
    }
    return await command.run({
      values: parsed.values,
      positionals: parsed.positionals,
      io,
      json: parsed.values.json === true,
    });
  } catch (error) {
    const interrupted = interruptExitCode();
    if (interrupted !== undefined) {
      const detail = error instanceof Error ? error.message : String(error);
      if (wantsJson) io.stdout(`${JSON.stringify({ error: { code: 'E_ABORTED', message: detail } })}\n`);
      io.stderr(`interrupted: ${detail}\n`);
      return interrupted;
    }
    const fsError = fileSystemError(error);
    if (fsError) {
      const message = `${fsError.message}: check the path${fsError.path ? ` ${fsError.path}` : ''} and its permissions`;
      if (wantsJson) io.stdout(`${JSON.stringify({ error: { code: `E_FS_${fsError.code}`, message } })}\n`);
      io.stderr(`error: ${message}\n`);
      return 1;
    }
    if (isUserError(error)) {
      if (wantsJson)
        io.stdout(`${JSON.stringify({ error: { code: error.code, message: error.message } })}\n`);
      io.stderr(`error: ${error.message}\n`);
      return 1;
    }
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    io.stderr(`internal error (please report it): ${message}\n`);
    return 2;
  }
}
