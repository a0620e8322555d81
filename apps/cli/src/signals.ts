/** Signals that stop the CLI, and the exit code a shell expects for each (128 + signal number). */
const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
type StopSignal = keyof typeof EXIT_CODES;

const active = new Set<AbortController>();
let received: StopSignal | undefined;
let installed = false;

/** The exit code of an interrupted run (130 after Ctrl-C, 143 after SIGTERM), or undefined. */
export function interruptExitCode(): number | undefined {
  return received === undefined ? undefined : EXIT_CODES[received];
}

/**
 * The executable's handlers: a first Ctrl-C (or the SIGTERM a script runner forwards) stops abortable
 * work at its next check, so it can keep what is finished and say so; a second one, or one that comes
 * while nothing is abortable, exits at once with the conventional code.
 */
export function installInterruptHandlers(stderr: (text: string) => void): void {
  installed = true;
  for (const name of Object.keys(EXIT_CODES) as StopSignal[]) {
    process.on(name, () => {
      const first = received === undefined;
      received ??= name;
      if (first && active.size > 0) {
        stderr(`\ninterrupted (${name}): stopping after the current step; press Ctrl-C again to quit now\n`);
        for (const controller of active) controller.abort();
        return;
      }
      stderr(`\ninterrupted (${name})\n`);
      process.exit(EXIT_CODES[name]);
    });
  }
}

/** Turns Ctrl-C (and SIGTERM) into an AbortSignal for long work, so it stops cleanly. */
export function abortOnSigint(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  active.add(controller);
  // Without the executable's handlers (the CLI run in-process) listen directly.
  const onSignal = (name: StopSignal) => () => {
    received ??= name;
    controller.abort();
  };
  const listeners = installed
    ? []
    : (Object.keys(EXIT_CODES) as StopSignal[]).map((name) => {
        const listener = onSignal(name);
        process.once(name, listener);
        return [name, listener] as const;
      });
  return {
    signal: controller.signal,
    dispose: () => {
      active.delete(controller);
      for (const [name, listener] of listeners) process.off(name, listener);
    },
  };
}

/** Forgets an earlier interruption: each in-process run starts uninterrupted. */
export function resetInterrupt(): void {
  received = undefined;
}
