import { compareRuns } from '../compare.ts';
import type { EvalRun } from '../evaluate.ts';
import type { DemoReport, FamilyAccuracy } from './types.ts';

/** The `eval` part of a demo report from a dense and a ShortV evaluation of the same samples. */
export function reportEvalSection(dense: EvalRun, shortv: EvalRun): DemoReport['eval'] {
  const comparison = compareRuns(dense, shortv);
  const perFamily: Record<string, FamilyAccuracy> = {};
  for (const [name, f] of Object.entries(comparison.perFamily)) {
    perFamily[name] = { samples: f.samples, dense: f.denseAccuracy, shortv: f.otherAccuracy };
  }
  const section: DemoReport['eval'] = {
    samples: comparison.samples,
    dense: { accuracy: dense.accuracy, prefillMs: dense.medianPrefillMs },
    shortv: { accuracy: shortv.accuracy, prefillMs: shortv.medianPrefillMs },
    perFamily,
    agreement: comparison.agreement,
  };
  if (dense.description && shortv.description) {
    section.description = {
      samples: dense.description.samples,
      dense: { exactMatch: dense.description.exactMatch, f1: dense.description.f1 },
      shortv: { exactMatch: shortv.description.exactMatch, f1: shortv.description.f1 },
    };
  }
  return section;
}
