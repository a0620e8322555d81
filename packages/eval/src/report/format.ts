/** Number formats shared by every report, so the same figure reads the same everywhere. */

export const MISSING = '–';

export function formatPercent(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value)
    ? MISSING
    : `${(value * 100).toFixed(1)}%`;
}

export function formatRatio(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? MISSING : value.toFixed(3);
}

export function formatMs(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value)
    ? MISSING
    : `${value.toFixed(2)} ms`;
}

export function formatSeconds(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(1)} s` : MISSING;
}

/** LC values span many orders of magnitude: always scientific, 3 significant digits; exact zero as `0`. */
export function formatLc(value: number): string {
  if (value === 0) return '0';
  return Number.isFinite(value) ? value.toExponential(2) : MISSING;
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
