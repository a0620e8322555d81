export { COMMANDS, helpText, runCli } from './cli.ts';
export type { CliIO, Command, CommandContext } from './command.ts';
export { isUserError, UsageError } from './errors.ts';
export { CLI_VERSION } from './version.ts';
