import { ShortvError } from '@shortv/tensor';
import type { FreezePlan } from './schema.ts';

/** What the plan check needs to know about the loaded model. */
export interface ModelIdentity {
  numLayers: number;
  fingerprint: string;
  architecture?: string;
  hiddenSize?: number;
}

/** One way in which the plan's model and the loaded model differ. */
export interface ModelDifference {
  field: 'numLayers' | 'fingerprint' | 'architecture' | 'hiddenSize';
  plan: string | number;
  model: string | number;
}

/** A plan made for another model. `differences` names what differs. */
export class PlanModelMismatchError extends ShortvError {
  readonly differences: readonly ModelDifference[];

  constructor(differences: readonly ModelDifference[]) {
    const described = differences.map(describe).join('; ');
    super(
      'E_PLAN_MODEL_MISMATCH',
      `This freeze plan was made for a different model: ${described}. A plan only fits the model it was calibrated on: re-calibrate for this model (\`shortv calibrate\`, then \`shortv plan\`).`,
    );
    this.name = 'PlanModelMismatchError';
    this.differences = differences;
  }
}

const LABELS: Record<ModelDifference['field'], string> = {
  numLayers: 'layer count',
  fingerprint: 'fingerprint',
  architecture: 'architecture',
  hiddenSize: 'hidden size',
};

function describe(difference: ModelDifference): string {
  return `${LABELS[difference.field]} is ${difference.plan} in the plan but ${difference.model} in the model`;
}

/** Throws `PlanModelMismatchError` (E_PLAN_MODEL_MISMATCH) unless the plan was made for this model. */
export function checkPlanForModel(plan: FreezePlan, model: ModelIdentity): void {
  const differences: ModelDifference[] = [];
  if (plan.model.numLayers !== model.numLayers) {
    differences.push({ field: 'numLayers', plan: plan.model.numLayers, model: model.numLayers });
  }
  if (plan.model.fingerprint !== model.fingerprint) {
    differences.push({ field: 'fingerprint', plan: plan.model.fingerprint, model: model.fingerprint });
  }
  if (model.architecture !== undefined && plan.model.architecture !== model.architecture) {
    differences.push({ field: 'architecture', plan: plan.model.architecture, model: model.architecture });
  }
  if (
    model.hiddenSize !== undefined &&
    plan.model.hiddenSize !== undefined &&
    plan.model.hiddenSize !== model.hiddenSize
  ) {
    differences.push({ field: 'hiddenSize', plan: plan.model.hiddenSize, model: model.hiddenSize });
  }
  if (differences.length > 0) throw new PlanModelMismatchError(differences);
}
