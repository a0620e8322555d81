import { formatLc } from './format.ts';
import { checkLcInput, logScale } from './lc-scale.ts';

export interface TerminalChartOptions {
  /** Total line width in columns (default 80; bars shrink to fit, 4 columns at least). */
  width?: number;
  /** ANSI colours for the bars and the frozen mark (default off: the chart reads the same without). */
  color?: boolean;
  /** Append one legend line naming the marks and the axis range (default off). */
  legend?: boolean;
}

/** Marks a frozen layer in the terminal chart: plain ASCII, one column wide in every terminal. */
export const TERMINAL_FROZEN_MARK = '*';

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
const ANSI = { visual: '\x1b[36m', text: '\x1b[33m', frozen: '\x1b[1;34m', reset: '\x1b[0m' };

/**
 * Visual and text LC per layer as horizontal bars on one shared log axis, one line per layer:
 * `layer mark V <bar> value T <bar> value`. Frozen layers carry `*` in the mark column.
 */
export function renderTerminalLcChart(
  lc: { visual: readonly number[]; text: readonly number[] },
  frozen: readonly number[],
  options: TerminalChartOptions = {},
): string {
  const layers = checkLcInput(lc, frozen);
  const color = options.color ?? false;
  const scale = logScale([...lc.visual, ...lc.text]);
  const frozenSet = new Set(frozen);
  const indexWidth = String(layers - 1).length;
  const valueWidth = Math.max(...[...lc.visual, ...lc.text].map((v) => formatLc(Math.max(v, 0)).length));
  // `I M V <bar> VALUE   T <bar> VALUE`: everything but the bars takes 12 columns plus index and values.
  const fixed = indexWidth + 12 + 2 * valueWidth;
  const barWidth = Math.max(4, Math.floor(((options.width ?? 80) - fixed) / 2));
  const paint = (code: string, text: string) => (color && text ? `${code}${text}${ANSI.reset}` : text);

  const bar = (value: number) => {
    const eighths = Math.round(scale.position(value) * barWidth * 8);
    return '█'.repeat(eighths >> 3) + EIGHTHS[eighths & 7];
  };
  const lines: string[] = [];
  for (let layer = 0; layer < layers; layer++) {
    const v = Math.max(lc.visual[layer]!, 0);
    const t = Math.max(lc.text[layer]!, 0);
    const visualBar = bar(v);
    const textBar = bar(t);
    const mark = frozenSet.has(layer) ? paint(ANSI.frozen, TERMINAL_FROZEN_MARK) : ' ';
    lines.push(
      `${String(layer).padStart(indexWidth)} ${mark} V ${paint(ANSI.visual, visualBar)}${' '.repeat(barWidth - [...visualBar].length)} ` +
        `${formatLc(v).padStart(valueWidth)}   T ${paint(ANSI.text, textBar)}${' '.repeat(barWidth - [...textBar].length)} ` +
        formatLc(t).padStart(valueWidth),
    );
  }
  if (options.legend) {
    lines.push(
      `${TERMINAL_FROZEN_MARK} frozen visual tokens   V visual-token LC   T text-token LC   ` +
        `log scale 1e${scale.lo}..1e${scale.hi}`,
    );
  }
  return lines.join('\n');
}
