import type { ParseArgsConfig } from 'node:util';
import type { OptionHelpTable } from './help.ts';

/** What a command may print to; tests pass their own to capture output. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** True when stderr is a terminal: progress bars are drawn only then. */
  interactive: boolean;
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface CommandContext {
  /** Parsed `--flags` (node:util parseArgs values). */
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
  io: CliIO;
  json: boolean;
}

export interface Command {
  /** Words that select the command, e.g. ['dataset', 'shapes']. */
  path: readonly string[];
  summary: string;
  usage: string;
  options: OptionSpec;
  /** What `--help` says about each entry of `options` (every one should have an entry). */
  optionHelp?: OptionHelpTable;
  /** Further `--help` text: input formats, environment variables. */
  notes?: string;
  run: (ctx: CommandContext) => Promise<number>;
}
