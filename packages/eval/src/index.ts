export { parseGqa, parseMme, parsePope, parseVqa, popeCategory } from './benchmarks/parse.ts';
export type {
  BenchmarkScore,
  CategoryScore,
  MmeCategoryScore,
  PopeCounts,
} from './benchmarks/score.ts';
export { mmeYesNo, popeYesNo, scoreBenchmark, vqaSoftAccuracy } from './benchmarks/score.ts';
export type {
  BenchmarkFormat,
  BenchmarkIssue,
  BenchmarkItem,
  ParsedBenchmark,
  SourceLine,
} from './benchmarks/types.ts';
export { BENCHMARK_FORMATS } from './benchmarks/types.ts';
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
export type { BenchmarkReport, BenchmarkRun } from './report/benchmark.ts';
export { renderBenchmarkHtml, renderBenchmarkMarkdown } from './report/benchmark.ts';
export { escapeHtml, formatLc, formatMs, formatPercent, formatRatio } from './report/format.ts';
export { reportEvalSection } from './report/from-runs.ts';
export { renderHtmlReport } from './report/html.ts';
export type { LogScale } from './report/lc-scale.ts';
export { logScale } from './report/lc-scale.ts';
export { renderMarkdownReport } from './report/markdown.ts';
export type { PeerRow, SweepSection } from './report/peers-sweep.ts';
export {
  htmlTable,
  markdownTable,
  peersTable,
  sweepChartSvg,
  sweepCostNote,
  sweepTable,
} from './report/peers-sweep.ts';
export { betterCalibration, calibrationChoiceVerdict } from './report/rows.ts';
export type { CostBar } from './report/svg.ts';
export { costChartSvg, lcChartSvg } from './report/svg.ts';
export type { TerminalChartOptions } from './report/terminal.ts';
export { renderTerminalLcChart, TERMINAL_FROZEN_MARK } from './report/terminal.ts';
export type {
  AblationRow,
  CalibrationArm,
  CalibrationChoice,
  DemoReport,
  FamilyAccuracy,
  ReportTiming,
} from './report/types.ts';
export type { SweepEngine, SweepPoint, SweepResult, SweepRule, SweepSample } from './sweep.ts';
export { sweepLayerChoices } from './sweep.ts';
export type {
  MeasurePrefillOptions,
  PrefillArms,
  PrefillMeasurement,
  SamplePrefillTiming,
} from './timing.ts';
export { measurePrefill } from './timing.ts';
export type { ArmsMeasurement, ArmTiming, TimedArm } from './timing-arms.ts';
export { measurePrefillArms, quantile } from './timing-arms.ts';
