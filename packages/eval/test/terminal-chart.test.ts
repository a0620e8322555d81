import { describe, expect, it } from 'vitest';
import { formatLc, renderTerminalLcChart, TERMINAL_FROZEN_MARK } from '../src/index.ts';
import { exampleReport } from './helpers/report.ts';

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are what this strips
const ANSI = /\x1b\[[0-9;]*m/g;
const BLOCKS = /[█▏▎▍▌▋▊▉]/g;

/** The visual and text bar of a chart line: the runs of block characters after `V ` and `T `. */
function bars(line: string): { visual: number; text: number } {
  const width = (s: string) => {
    let w = 0;
    for (const ch of s.match(BLOCKS) ?? []) w += ch === '█' ? 8 : '▏▎▍▌▋▊▉'.indexOf(ch) + 1;
    return w;
  };
  const [, v = '', t = ''] = line.match(/ V ([^ ]*) .* T ([^ ]*)/) ?? [];
  return { visual: width(v), text: width(t) };
}

describe('renderTerminalLcChart', () => {
  const { lc, plan } = exampleReport();
  const chart = renderTerminalLcChart(lc, plan.frozen, { width: 80 });
  const lines = chart.split('\n');

  it('draws one line per layer, marking exactly the frozen layers', () => {
    expect(lines).toHaveLength(12);
    const indexWidth = 2;
    lines.forEach((line, layer) => {
      expect(line.slice(0, indexWidth).trim()).toBe(String(layer));
      expect(line[indexWidth + 1]).toBe(plan.frozen.includes(layer) ? TERMINAL_FROZEN_MARK : ' ');
    });
    expect(lines.filter((l) => l.includes(TERMINAL_FROZEN_MARK))).toHaveLength(plan.frozen.length);
  });

  it('prints both values of each layer and stays within the width, without colour codes', () => {
    lines.forEach((line, layer) => {
      expect(line).toContain(formatLc(lc.visual[layer]!));
      expect(line).toContain(formatLc(lc.text[layer]!));
      expect([...line].length).toBe(80);
    });
    expect(chart).not.toMatch(ANSI);
  });

  it('draws longer bars for larger LC on one log axis, none for zero', () => {
    const all = lines.map(bars);
    const values = [...lc.visual, ...lc.text];
    const lengths = [...all.map((b) => b.visual), ...all.map((b) => b.text)];
    for (let i = 0; i < values.length; i++) {
      for (let j = 0; j < values.length; j++) {
        if (values[i]! > values[j]! * 1.5) expect(lengths[i]).toBeGreaterThan(lengths[j]!);
      }
    }
    expect(all[11]!.visual).toBe(0);
    expect(all[10]!.visual).toBeGreaterThan(0);
    // Log scale: 2.4 (text, layer 1) and 2.2e-5 (visual, layer 9) both get visible, different bars.
    expect(all[9]!.visual).toBeGreaterThan(0);
    expect(all[1]!.text).toBeGreaterThan(all[9]!.visual);
  });

  it('colours only add escape codes, and a legend adds one line', () => {
    const coloured = renderTerminalLcChart(lc, plan.frozen, { width: 80, color: true });
    expect(coloured).toMatch(ANSI);
    expect(coloured.replace(ANSI, '')).toBe(chart);
    const withLegend = renderTerminalLcChart(lc, plan.frozen, { legend: true }).split('\n');
    expect(withLegend).toHaveLength(13);
    expect(withLegend[12]).toContain(TERMINAL_FROZEN_MARK);
  });

  it('fits narrow terminals with short bars and refuses inconsistent input', () => {
    expect(renderTerminalLcChart(lc, plan.frozen, { width: 20 }).split('\n')).toHaveLength(12);
    expect(() => renderTerminalLcChart({ visual: [1, 2], text: [1] }, [])).toThrow(
      expect.objectContaining({ code: 'E_REPORT_LC' }),
    );
    expect(() => renderTerminalLcChart({ visual: [1, Number.NaN], text: [1, 1] }, [])).toThrow(
      expect.objectContaining({ code: 'E_REPORT_LC' }),
    );
    expect(() => renderTerminalLcChart({ visual: [1, 2], text: [1, 2] }, [2])).toThrow(
      expect.objectContaining({ code: 'E_REPORT_FROZEN' }),
    );
  });
});
