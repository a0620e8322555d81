export { parseLc, serializeLc } from './io.ts';
export type { LcEngine, LcOptions, LcProgress, LcSample } from './lc.ts';
export { LcAbortedError, layerContribution, lcMetricName } from './lc.ts';
export type { SelectOptions, ValidationOptions, ValidationStep } from './select.ts';
export {
  buildPlan,
  checkLcScores,
  rankLayers,
  selectByCount,
  selectByFlops,
  selectByValidation,
} from './select.ts';
export type {
  AnswerAggregation,
  KlDirection,
  LcCalibration,
  LcModel,
  LcResult,
  LcSampleResult,
  LcSchedule,
  LcScores,
} from './types.ts';
export type { VtwEngine, VtwSearchOptions, VtwSearchResult } from './vtw.ts';
export { searchVtwLayer } from './vtw.ts';
