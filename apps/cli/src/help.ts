import type { Command } from './command.ts';

/** How `--help` describes one option: `value` names its argument, `default` is shown as written. */
export interface OptionHelp {
  value?: string;
  description: string;
  default?: string;
}

/** Help of every option a command declares, keyed like `Command.options`. */
export type OptionHelpTable = Readonly<Record<string, OptionHelp>>;

/** Options every command accepts; described once here so each command's help lists them. */
export const GLOBAL_OPTION_HELP: OptionHelpTable = {
  json: { description: 'print one JSON object on stdout instead of text' },
  help: { description: 'show this help' },
};

function optionLabel(name: string, help: OptionHelp | undefined, short: string | undefined): string {
  const flag = `--${name}${help?.value ? ` ${help.value}` : ''}`;
  return short ? `-${short}, ${flag}` : flag;
}

/** The option names of a command that `--help` cannot describe (a test keeps this list empty). */
export function undocumentedOptions(command: Command): string[] {
  return Object.keys(command.options).filter((name) => command.optionHelp?.[name] === undefined);
}

/** `--help` of one command: summary, usage, every option with its default, then the command's notes. */
export function commandHelp(command: Command): string {
  const rows: [string, string][] = [];
  const entries: [string, OptionHelp | undefined, string | undefined][] = [
    ...Object.entries(command.options).map(
      ([name, spec]) =>
        [name, command.optionHelp?.[name], spec.short] as [
          string,
          OptionHelp | undefined,
          string | undefined,
        ],
    ),
    ['json', GLOBAL_OPTION_HELP.json, undefined],
    ['help', GLOBAL_OPTION_HELP.help, 'h'],
  ];
  for (const [name, help, short] of entries) {
    const text = help?.description ?? '';
    rows.push([optionLabel(name, help, short), help?.default ? `${text} (default: ${help.default})` : text]);
  }
  const width = Math.min(30, Math.max(...rows.map(([label]) => label.length)));
  const options = rows.map(([label, text]) =>
    label.length > width ? `  ${label}\n  ${''.padEnd(width)}  ${text}` : `  ${label.padEnd(width)}  ${text}`,
  );
  const notes = command.notes ? ['', command.notes.trimEnd()] : [];
  return [command.summary, '', `Usage: ${command.usage}`, '', 'Options:', ...options, ...notes, ''].join(
    '\n',
  );
}
