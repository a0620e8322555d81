import { ShortvError } from '@shortv/tensor';
import { describe, expect, it } from 'vitest';
import { checkPlanForModel, PlanModelMismatchError } from '../src/index.ts';
import { examplePlan, FINGERPRINT_A, FINGERPRINT_B } from './examples.ts';

function mismatchOf(run: () => void): PlanModelMismatchError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PlanModelMismatchError);
    expect(error).toBeInstanceOf(ShortvError);
    expect((error as ShortvError).code).toBe('E_PLAN_MODEL_MISMATCH');
    return error as PlanModelMismatchError;
  }
  throw new Error('expected the plan to be refused');
}

describe('checkPlanForModel', () => {
  it('accepts the model the plan was made for', () => {
    expect(() =>
      checkPlanForModel(examplePlan(), { numLayers: 12, fingerprint: FINGERPRINT_A, architecture: 'llava' }),
    ).not.toThrow();
  });

  it('refuses a model with another fingerprint and says to re-calibrate', () => {
    const error = mismatchOf(() =>
      checkPlanForModel(examplePlan(), { numLayers: 12, fingerprint: FINGERPRINT_B }),
    );
    expect(error.differences).toEqual([{ field: 'fingerprint', plan: FINGERPRINT_A, model: FINGERPRINT_B }]);
    expect(error.message).toContain(
      `fingerprint is ${FINGERPRINT_A} in the plan but ${FINGERPRINT_B} in the model`,
    );
    expect(error.message).toContain('re-calibrate for this model');
  });

  it('refuses a model with another layer count, naming both counts', () => {
    const error = mismatchOf(() =>
      checkPlanForModel(examplePlan(), { numLayers: 32, fingerprint: FINGERPRINT_A }),
    );
    expect(error.differences).toEqual([{ field: 'numLayers', plan: 12, model: 32 }]);
    expect(error.message).toContain('layer count is 12 in the plan but 32 in the model');
  });

  it('reports every difference at once, including architecture and hidden size when known', () => {
    const error = mismatchOf(() =>
      checkPlanForModel(examplePlan(), {
        numLayers: 40,
        fingerprint: FINGERPRINT_B,
        architecture: 'qwen2-vl',
        hiddenSize: 5120,
      }),
    );
    expect(error.differences.map((d) => d.field)).toEqual([
      'numLayers',
      'fingerprint',
      'architecture',
      'hiddenSize',
    ]);
    expect(error.message).toContain('architecture is llava in the plan but qwen2-vl in the model');
    expect(error.message).toContain('hidden size is 256 in the plan but 5120 in the model');
  });
});
