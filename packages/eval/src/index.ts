export type { FamilyComparison, RunComparison } from './compare.ts';
export { compareRuns } from './compare.ts';
export type {
  DescriptionScore,
  EvalEngine,
  EvalRun,
  EvalSample,
  EvaluateOptions,
  FamilyScore,
  SamplePrediction,
} from './evaluate.ts';
export { DEFAULT_EVAL_MAX_NEW_TOKENS, evaluate, FREE_TEXT_FAMILIES, scorePredictions } from './evaluate.ts';
export { exactMatch, median, tokenF1 } from './metrics.ts';
export type {
  MeasurePrefillOptions,
  PrefillArms,
  PrefillMeasurement,
  SamplePrefillTiming,
} from './timing.ts';
export { measurePrefill } from './timing.ts';
