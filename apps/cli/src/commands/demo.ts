import type { Command } from '../command.ts';
import { UsageError } from '../errors.ts';

export const demoCommand: Command = {
  path: ['demo'],
  summary: 'Calibrate, plan and evaluate ShortV on the bundled model (the main job)',
  usage: 'shortv demo [--json]',
  options: {},
  async run() {
    throw new UsageError(
      'the demo is not built yet: it needs the bundled model, the runtime and LC calibration. ' +
        'Run `pnpm test` to exercise what exists today.',
    );
  },
};
