import { ShortvError } from '@shortv/tensor';
import { formatPercent, formatRatio } from './format.ts';
import { checkLcInput } from './lc-scale.ts';
import type { CalibrationArm, CalibrationChoice, DemoReport } from './types.ts';

export interface AccuracyRow {
  label: string;
  accuracy: number | null;
  perFamily: Record<string, number | undefined>;
}

export interface CostRow {
  label: string;
  value: number;
  note: string;
}

/** Checks a report's shape before rendering, so a bad report fails with a clear error rather than a broken chart. */
export function checkReport(report: DemoReport): void {
  const layers = checkLcInput(report.lc, report.plan.frozen);
  if (layers !== report.numLayers) {
    throw new ShortvError(
      'E_REPORT_LC',
      `the report says ${report.numLayers} layers but its LC has ${layers} values per group`,
    );
  }
}

export function familiesOf(report: DemoReport): string[] {
  const names = new Set(Object.keys(report.eval.perFamily ?? {}));
  for (const row of report.ablation ?? [])
    for (const name of Object.keys(row.perFamily ?? {})) names.add(name);
  return [...names].sort();
}

export function accuracyRows(report: DemoReport): AccuracyRow[] {
  const perFamily = report.eval.perFamily ?? {};
  const pick = (key: 'dense' | 'shortv') =>
    Object.fromEntries(Object.entries(perFamily).map(([name, f]) => [name, f[key]]));
  return [
    { label: 'Dense', accuracy: report.eval.dense.accuracy, perFamily: pick('dense') },
    {
      label: `ShortV (${report.plan.frozen.length} of ${report.numLayers} layers frozen)`,
      accuracy: report.eval.shortv.accuracy,
      perFamily: pick('shortv'),
    },
    ...(report.ablation ?? []).map((row) => ({
      label:
        row.samples !== undefined && row.samples !== report.eval.samples
          ? `${row.label} (first ${row.samples} questions)`
          : row.label,
      accuracy: row.accuracy,
      perFamily: { ...(row.perFamily ?? {}) },
    })),
  ];
}

/** Cost of ShortV relative to dense: the FLOPs estimate and every prefill-time ratio measured. */
export function costRows(report: DemoReport): CostRow[] {
  const rows: CostRow[] = [
    { label: 'Prefill FLOPs', value: report.plan.flopsRatio, note: 'decoder prefill FLOPs, ShortV / dense' },
  ];
  if (report.timing) {
    rows.push(
      {
        label: 'Prefill time (median of ratios)',
        value: report.timing.ratio.medianOfRatios,
        note: `interleaved dense/ShortV runs, ${report.timing.samples} samples x ${report.timing.repeats} repeats`,
      },
      {
        label: 'Prefill time (ratio of medians)',
        value: report.timing.ratio.ratioOfMedians,
        note: `${report.timing.planned.medianMs.toFixed(2)} ms / ${report.timing.dense.medianMs.toFixed(2)} ms`,
      },
    );
  } else if (report.eval.dense.prefillMs > 0) {
    rows.push({
      label: 'Prefill time (eval runs)',
      value: report.eval.shortv.prefillMs / report.eval.dense.prefillMs,
      note: 'ratio of median prefill times of the two sequential eval runs',
    });
  }
  return rows;
}

export function sortedLayers(layers: readonly number[]): number[] {
  return [...layers].sort((a, b) => a - b);
}

/** The arm that keeps descriptions better: higher token F1, then higher exact match. */
export function betterCalibration(arms: readonly CalibrationArm[]): CalibrationChoice['better'] {
  if (arms.length === 0) return 'tie';
  const sorted = [...arms].sort((a, b) => b.f1 - a.f1 || b.exactMatch - a.exactMatch);
  const [first, second] = sorted;
  if (second && first!.f1 === second.f1 && first!.exactMatch === second.exactMatch) return 'tie';
  return first!.calibration;
}

/** One sentence naming the calibration that keeps descriptions better, with its margin. */
export function calibrationChoiceVerdict(choice: CalibrationChoice): string {
  const arm = (name: CalibrationArm['calibration']) => choice.arms.find((a) => a.calibration === name);
  const multi = arm('multi-token');
  const first = arm('first-token');
  if (!multi || !first) return '';
  const figures = `token F1 ${formatRatio(multi.f1)} vs ${formatRatio(first.f1)}, exact match ${formatPercent(multi.exactMatch)} vs ${formatPercent(first.exactMatch)}`;
  if (choice.better === 'tie') {
    return `At ${choice.layers} frozen layers both calibrations keep descriptions equally well (${figures}).`;
  }
  return `At ${choice.layers} frozen layers the ${choice.better} calibration keeps descriptions better (multi-token vs first-token: ${figures}).`;
}
