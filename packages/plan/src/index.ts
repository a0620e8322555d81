export type { ModelDifference, ModelIdentity } from './check.ts';
export { checkPlanForModel, PlanModelMismatchError } from './check.ts';
export type { FingerprintInput } from './fingerprint.ts';
export { fingerprintText, modelFingerprint } from './fingerprint.ts';
export type {
  DecoderDims,
  LayerFlops,
  LayerMode,
  PlanLayout,
  PrefillFlopsReport,
  PrefillTokens,
} from './flops.ts';
export { denseLayerFlops, frozenLayerFlops, keptVisualTokens, prefillFlops } from './flops.ts';
export type { PlanIssue } from './parse.ts';
export { jsonPath, PlanValidationError, parsePlan, serializePlan } from './parse.ts';
export type {
  FreezePlan,
  PlanCalibration,
  PlanEstimate,
  PlanLayer,
  PlanLayerContribution,
  PlanModel,
  PlanPrune,
  PlanWithdraw,
} from './schema.ts';
export {
  freezePlanJsonSchema,
  freezePlanJsonSchemaText,
  freezePlanSchema,
  PLAN_FORMAT,
  PLAN_VERSION,
} from './schema.ts';
