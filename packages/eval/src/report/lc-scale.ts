import { ShortvError } from '@shortv/tensor';

/** Widest span a chart shows; smaller values are drawn at its floor, so noise cannot squash the rest. */
const MAX_DECADES = 12;

/** A base-10 log axis from 10^lo to 10^hi (whole decades). Values <= 0 have no bar. */
export interface LogScale {
  lo: number;
  hi: number;
  /** Where a value sits on the axis, 0 (floor) to 1 (top); 0 for values <= 0. */
  position(value: number): number;
  /** Decade exponents from lo to hi. */
  decades: number[];
}

export function logScale(values: readonly number[]): LogScale {
  const positive = values.filter((v) => v > 0);
  let lo = -6;
  let hi = 0;
  if (positive.length > 0) {
    const min = Math.min(...positive);
    const max = Math.max(...positive);
    // The smallest value gets a visible bar: the floor sits at least a decade fraction below it.
    hi = Math.ceil(Math.log10(max));
    lo = Math.max(Math.ceil(Math.log10(min)) - 1, hi - MAX_DECADES);
    if (hi <= lo) hi = lo + 1;
  }
  const span = hi - lo;
  return {
    lo,
    hi,
    position: (value) => (value > 0 ? Math.min(1, Math.max(0, (Math.log10(value) - lo) / span)) : 0),
    decades: Array.from({ length: span + 1 }, (_, i) => lo + i),
  };
}

/** Checks LC arrays and frozen indices before drawing; negative rounding noise counts as zero. */
export function checkLcInput(
  lc: { visual: readonly number[]; text: readonly number[] },
  frozen: readonly number[],
): number {
  const layers = lc.visual.length;
  if (layers === 0 || lc.text.length !== layers) {
    throw new ShortvError(
      'E_REPORT_LC',
      `LC needs one visual and one text value per layer; got ${lc.visual.length} visual and ${lc.text.length} text values`,
    );
  }
  for (const [group, values] of [
    ['visual', lc.visual],
    ['text', lc.text],
  ] as const) {
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new ShortvError(
        'E_REPORT_LC',
        `${group} LC of layer ${bad} is ${values[bad]}; LC values must be finite numbers`,
      );
    }
  }
  for (const index of frozen) {
    if (!Number.isInteger(index) || index < 0 || index >= layers) {
      throw new ShortvError(
        'E_REPORT_FROZEN',
        `frozen layer ${index} is not a layer of this ${layers}-layer model (0..${layers - 1})`,
      );
    }
  }
  return layers;
}
