import { describe, expect, it } from 'vitest';
import {
  betterCalibration,
  type CalibrationArm,
  type CalibrationChoice,
  calibrationChoiceVerdict,
  renderHtmlReport,
  renderMarkdownReport,
} from '../src/index.ts';
import { exampleReport } from './helpers/report.ts';

const arm = (calibration: CalibrationArm['calibration'], f1: number, exactMatch: number): CalibrationArm => ({
  calibration,
  metric: calibration === 'first-token' ? 'KL(P_mod||P)@answer[0]' : 'KL(P_mod||P)@answer[all]',
  frozen: calibration === 'first-token' ? [1, 2, 5] : [2, 5, 7],
  exactMatch,
  f1,
});

describe('first-token vs multi-token calibration', () => {
  it('prefers the higher token F1, then the higher exact match, and says tie only when both are equal', () => {
    expect(betterCalibration([arm('first-token', 0.9, 0.5), arm('multi-token', 0.95, 0.4)])).toBe(
      'multi-token',
    );
    expect(betterCalibration([arm('first-token', 0.9, 0.6), arm('multi-token', 0.9, 0.5)])).toBe(
      'first-token',
    );
    expect(betterCalibration([arm('first-token', 0.9, 0.5), arm('multi-token', 0.9, 0.5)])).toBe('tie');
  });

  it('shows both arms and the verdict in the Markdown and HTML reports', () => {
    const arms = [arm('first-token', 0.8125, 0.25), arm('multi-token', 0.9375, 0.75)];
    const choice: CalibrationChoice = {
      layers: 3,
      samples: 4,
      dense: { exactMatch: 1, f1: 1 },
      arms,
      better: betterCalibration(arms),
    };
    const verdict = calibrationChoiceVerdict(choice);
    expect(verdict).toBe(
      'At 3 frozen layers the multi-token calibration keeps descriptions better (multi-token vs first-token: token F1 0.938 vs 0.813, exact match 75.0% vs 25.0%).',
    );
    const report = { ...exampleReport(), calibrationChoice: choice };
    const md = renderMarkdownReport(report);
    expect(md).toContain(verdict);
    // Markdown escapes the metric's pipes.
    expect(md).toContain('| multi-token (KL(P_mod\\|\\|P)@answer[all]) | 2, 5, 7 | 75.0% | 0.938 |');
    const html = renderHtmlReport(report);
    expect(html).toContain('Descriptions by calibration (3 frozen layers, 4 samples)');
    expect(html).toContain('<td>2, 5, 7</td><td>75.0%</td><td>0.938</td>');
    expect(renderMarkdownReport(exampleReport())).not.toContain('descriptions by calibration');
  });
});
