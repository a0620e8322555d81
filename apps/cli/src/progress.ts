import type { CliIO } from './command.ts';

/**
 * A one-line progress bar on stderr. Drawn only on a terminal; elsewhere (CI, pipes) it prints the
 * phase once when it starts and once when it ends, so logs stay short.
 */
export class ProgressBar {
  private last = 0;
  private started = false;

  constructor(
    private readonly io: CliIO,
    private readonly label: string,
    private readonly enabled = true,
  ) {}

  update(done: number, total: number, detail = ''): void {
    if (!this.enabled) return;
    if (!this.io.interactive) {
      if (!this.started) this.io.stderr(`${this.label}...\n`);
      this.started = true;
      return;
    }
    const now = Date.now();
    if (done < total && now - this.last < 80) return;
    this.last = now;
    const width = 24;
    const filled = total > 0 ? Math.round((done / total) * width) : 0;
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    // `done` may count part of an item (a sample's layers); the count shows whole items, the percent the rest.
    const percent = total > 0 ? Math.floor((done / total) * 100) : 0;
    const count = `${Math.floor(done)}/${total} (${percent}%)`;
    this.io.stderr(`\r${this.label.padEnd(14)} ${bar} ${count} ${detail}`.padEnd(80));
    this.started = true;
  }

  done(summary: string): void {
    if (!this.enabled) return;
    this.io.stderr(`${this.io.interactive ? '\r' : ''}${`${this.label.padEnd(14)} ${summary}`.padEnd(80)}\n`);
  }
}
