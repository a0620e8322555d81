import { buildPlan, type LcScores, rankLayers, selectByFlops } from '@shortv/lc';
import {
  checkPlanForModel,
  type DecoderDims,
  type FreezePlan,
  type ModelIdentity,
  PLAN_FORMAT,
  PLAN_VERSION,
  type PrefillTokens,
  parsePlan,
  prefillFlops,
  serializePlan,
} from '@shortv/plan';
import { ShortvError } from '@shortv/tensor';

/** What the page knows about the loaded model to build, check and price plans. */
export interface PlanTarget {
  identity: Required<Pick<ModelIdentity, 'numLayers' | 'fingerprint'>> & {
    architecture: string;
    hiddenSize: number;
  };
  dims: DecoderDims;
  /** Prefill tokens the FLOPs estimate assumes (visual tokens per image, text tokens of a prompt). */
  tokens: PrefillTokens;
}

/**
 * The plan editor's state: the frozen layers, and the LC scores they may have been chosen from (from an
 * in-page calibration or an imported plan). Plans leave the page through `exportPlan`, which writes
 * what `shortv plan` writes for the same scores and layers.
 */
export interface PlanDraft {
  frozen: number[];
  lc: LcScores | null;
}

export function sortedLayers(layers: Iterable<number>): number[] {
  return [...new Set(layers)].sort((a, b) => a - b);
}

/** Prefill FLOPs of the plan / dense, for the tokens the target assumes. */
export function flopsRatio(target: PlanTarget, frozen: readonly number[]): number {
  return prefillFlops(target.dims, target.tokens, { layers: frozen.map((index) => ({ index })) }).ratio;
}

/** The N layers of lowest visual LC (ties: the later layer), as `shortv plan --layers N` picks them. */
export function lowestLcLayers(lc: LcScores, count: number): number[] {
  return sortedLayers(rankLayers(lc).slice(0, count));
}

/** The fewest layers in LC order whose FLOPs ratio is at most `target`, as `shortv plan --flops`. */
export function layersForFlops(lc: LcScores, plan: PlanTarget, target: number): number[] {
  return sortedLayers(selectByFlops(lc, target, plan.dims, plan.tokens).layers.map((l) => l.index));
}

export function toggleLayer(frozen: readonly number[], index: number): number[] {
  return frozen.includes(index) ? frozen.filter((l) => l !== index) : sortedLayers([...frozen, index]);
}

/** A plan of the draft: with LC scores, exactly what `shortv plan` writes for them; without, a bare plan. */
export function draftPlan(target: PlanTarget, draft: PlanDraft): FreezePlan {
  if (draft.lc) return buildPlan(draft.lc, draft.frozen, { model: target.identity });
  return parsePlan({
    format: PLAN_FORMAT,
    version: PLAN_VERSION,
    model: { ...target.identity },
    layers: sortedLayers(draft.frozen).map((index) => ({ index, visual: 'freeze' })),
    prune: null,
    withdraw: null,
    lc: null,
    calibration: null,
    estimate: {
      visualTokens: target.tokens.visualTokens,
      textTokens: target.tokens.textTokens,
      flopsRatio: flopsRatio(target, draft.frozen),
    },
  });
}

export function exportPlan(target: PlanTarget, draft: PlanDraft): string {
  return serializePlan(draftPlan(target, draft));
}

/**
 * A plan file's text -> the editor's draft, refusing what the CLI refuses: malformed JSON or fields
 * (the message names the JSON path), and plans for another model. The page applies only visual
 * freezing; a plan asking for token pruning or withdrawal is refused by name.
 */
export function importPlan(target: PlanTarget, text: string): { plan: FreezePlan; draft: PlanDraft } {
  const plan = parsePlan(text);
  checkPlanForModel(plan, target.identity);
  if (plan.prune || plan.withdraw) {
    throw new ShortvError(
      'E_PLAN_UNSUPPORTED',
      'this plan also asks for FastV pruning or VTW withdrawal; the playground edits visual-freeze plans only (run this one with `shortv run --plan` or the runtime-web worker)',
    );
  }
  const frozen = sortedLayers(plan.layers.filter((l) => l.visual === 'freeze').map((l) => l.index));
  return { plan, draft: { frozen, lc: lcOfPlan(target, plan) } };
}

/** The LC scores a plan carries, in the form selection works from (null when it carries none). */
export function lcOfPlan(target: PlanTarget, plan: FreezePlan): LcScores | null {
  if (!plan.lc?.text || !plan.calibration) return null;
  return {
    visual: [...plan.lc.visual],
    text: [...plan.lc.text],
    metric: plan.lc.metric,
    samples: plan.lc.samples,
    model: {
      architecture: plan.model.architecture,
      numLayers: plan.model.numLayers,
      hiddenSize: plan.model.hiddenSize ?? target.identity.hiddenSize,
      fingerprint: plan.model.fingerprint,
    },
    dims: target.dims,
    tokens: plan.estimate
      ? { visualTokens: plan.estimate.visualTokens, textTokens: plan.estimate.textTokens }
      : target.tokens,
    calibration: {
      dataset: plan.calibration.dataset,
      samples: plan.calibration.samples,
      ...(plan.calibration.seed !== undefined ? { seed: plan.calibration.seed } : {}),
      createdWith: plan.calibration.createdWith ?? 'unknown',
    },
  };
}
