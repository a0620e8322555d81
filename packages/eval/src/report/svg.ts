import { escapeHtml, formatLc, formatRatio } from './format.ts';
import { checkLcInput, logScale } from './lc-scale.ts';

export const CHART_COLORS = {
  visual: '#2f62c9',
  text: '#d9822b',
  frozen: '#dfe8f7',
  axis: '#555',
  grid: '#ddd',
};

const fmt = (n: number) => (Math.round(n * 10) / 10).toString();

/**
 * Visual and text LC per layer as grouped bars on a log axis (LC spans orders of magnitude). Frozen
 * layers get a shaded band and a `frozen` mark under their index. Inline SVG, no external references.
 */
export function lcChartSvg(
  lc: { visual: readonly number[]; text: readonly number[] },
  frozen: readonly number[],
): string {
  const layers = checkLcInput(lc, frozen);
  const scale = logScale([...lc.visual, ...lc.text]);
  const frozenSet = new Set(frozen);
  const left = 56;
  const right = 16;
  const top = 28;
  const plotHeight = 220;
  const bottom = 52;
  const group = Math.max(18, Math.min(40, Math.floor(720 / layers)));
  const width = left + layers * group + right;
  const height = top + plotHeight + bottom;
  const baseY = top + plotHeight;
  const barWidth = Math.max(4, Math.floor((group - 6) / 2));
  const y = (value: number) => baseY - scale.position(value) * plotHeight;

  const parts: string[] = [];
  parts.push(
    `<svg class="chart lc-chart" role="img" aria-labelledby="lc-chart-title" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">`,
    `<title id="lc-chart-title">Layer Contribution per layer, visual vs text tokens, log scale</title>`,
  );
  for (let layer = 0; layer < layers; layer++) {
    if (!frozenSet.has(layer)) continue;
    parts.push(
      `<rect class="frozen-band" data-layer="${layer}" x="${left + layer * group}" y="${top}" width="${group}" height="${plotHeight}" fill="${CHART_COLORS.frozen}"/>`,
    );
  }
  for (const decade of scale.decades) {
    const gy = fmt(baseY - ((decade - scale.lo) / (scale.hi - scale.lo)) * plotHeight);
    parts.push(
      `<line x1="${left}" x2="${width - right}" y1="${gy}" y2="${gy}" stroke="${CHART_COLORS.grid}"/>`,
      `<text x="${left - 6}" y="${gy}" dy="0.32em" text-anchor="end" class="tick">1e${decade}</text>`,
    );
  }
  for (let layer = 0; layer < layers; layer++) {
    const x0 = left + layer * group + (group - 2 * barWidth) / 2;
    for (const [k, kind] of (['visual', 'text'] as const).entries()) {
      const value = Math.max(lc[kind][layer]!, 0);
      const barTop = y(value);
      parts.push(
        `<rect class="bar ${kind}" data-layer="${layer}" x="${fmt(x0 + k * barWidth)}" y="${fmt(barTop)}" width="${barWidth}" height="${fmt(baseY - barTop)}" fill="${CHART_COLORS[kind]}">` +
          `<title>layer ${layer} ${kind} LC ${formatLc(value)}</title></rect>`,
      );
      if (value === 0) {
        // A zero has no place on a log axis: say so where its bar would stand.
        parts.push(
          `<text class="zero" x="${fmt(x0 + k * barWidth + barWidth / 2)}" y="${baseY - 3}" text-anchor="middle">0</text>`,
        );
      }
    }
    const cx = left + layer * group + group / 2;
    parts.push(`<text x="${fmt(cx)}" y="${baseY + 14}" text-anchor="middle" class="tick">${layer}</text>`);
    if (frozenSet.has(layer)) {
      parts.push(
        `<text class="frozen-mark" data-layer="${layer}" x="${fmt(cx)}" y="${baseY + 28}" text-anchor="middle">&#10052;</text>`,
      );
    }
  }
  parts.push(
    `<line x1="${left}" x2="${width - right}" y1="${baseY}" y2="${baseY}" stroke="${CHART_COLORS.axis}"/>`,
    `<line x1="${left}" x2="${left}" y1="${top}" y2="${baseY}" stroke="${CHART_COLORS.axis}"/>`,
    `<text x="${left + (width - left - right) / 2}" y="${height - 6}" text-anchor="middle" class="axis-label">decoder layer (&#10052; = visual tokens frozen)</text>`,
    legend(left, 14, [
      ['visual tokens', CHART_COLORS.visual],
      ['text tokens', CHART_COLORS.text],
      ['frozen layer', CHART_COLORS.frozen],
    ]),
    '</svg>',
  );
  return parts.join('');
}

export interface CostBar {
  label: string;
  /** Relative to dense (1 = same cost). */
  value: number;
}

/** Horizontal bars of cost ratios against dense, with the dense level (1.0) drawn as a line. */
export function costChartSvg(bars: readonly CostBar[]): string {
  const labelWidth = 230;
  const plotWidth = 360;
  const row = 30;
  const top = 12;
  const width = labelWidth + plotWidth + 70;
  const height = top + bars.length * row + 28;
  const max = Math.max(1, ...bars.map((b) => (Number.isFinite(b.value) ? b.value : 0))) * 1.05;
  const x = (v: number) => labelWidth + (Math.max(0, v) / max) * plotWidth;
  const parts: string[] = [
    `<svg class="chart cost-chart" role="img" aria-labelledby="cost-chart-title" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">`,
    `<title id="cost-chart-title">Prefill cost relative to dense (1.0 = dense)</title>`,
  ];
  bars.forEach((bar, i) => {
    const by = top + i * row;
    const value = Number.isFinite(bar.value) ? bar.value : 0;
    parts.push(
      `<text x="${labelWidth - 8}" y="${by + row / 2}" dy="0.32em" text-anchor="end">${escapeHtml(bar.label)}</text>`,
      `<rect class="bar cost" x="${labelWidth}" y="${by + 5}" width="${fmt(x(value) - labelWidth)}" height="${row - 10}" fill="${CHART_COLORS.visual}"/>`,
      `<text x="${fmt(x(value) + 6)}" y="${by + row / 2}" dy="0.32em" class="value">${formatRatio(bar.value)}</text>`,
    );
  });
  const oneX = fmt(x(1));
  parts.push(
    `<line x1="${oneX}" x2="${oneX}" y1="${top}" y2="${top + bars.length * row}" stroke="${CHART_COLORS.axis}" stroke-dasharray="4 3"/>`,
    `<text x="${oneX}" y="${height - 8}" text-anchor="middle" class="tick">dense = 1.0</text>`,
    '</svg>',
  );
  return parts.join('');
}

function legend(x: number, y: number, entries: ReadonlyArray<readonly [string, string]>): string {
  let offset = x;
  const items = entries.map(([label, color]) => {
    const item =
      `<rect x="${offset}" y="${y - 9}" width="10" height="10" fill="${color}" stroke="${CHART_COLORS.axis}" stroke-width="0.5"/>` +
      `<text x="${offset + 14}" y="${y}" class="legend">${escapeHtml(label)}</text>`;
    offset += 24 + label.length * 6.5;
    return item;
  });
  return `<g class="legend">${items.join('')}</g>`;
}
