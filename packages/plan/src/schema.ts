import { z } from 'zod';

/** The `format` value every freeze plan carries, so a plan file is recognisable on its own. */
export const PLAN_FORMAT = 'shortv.freeze-plan';
/** The only plan version this build reads and writes. */
export const PLAN_VERSION = 1;

const quoted = (value: unknown): string => JSON.stringify(value) ?? String(value);

const notALayerIndex = (issue: { input?: unknown }): string =>
  `expected a layer index (an integer >= 0), got ${quoted(issue.input)}`;
const layerIndex = z.int({ error: notALayerIndex }).nonnegative({ error: notALayerIndex });

const modelSchema = z
  .strictObject({
    architecture: z.string().min(1).describe('Model family the plan was made for, e.g. "llava".'),
    numLayers: z.int().positive().describe('Number of decoder layers.'),
    hiddenSize: z.int().positive().optional().describe('Decoder hidden size (informational).'),
    fingerprint: z
      .string()
      .regex(/^sha256:[0-9a-f]{64}$/, { error: 'expected "sha256:" followed by 64 lower-case hex digits' })
      .describe('modelFingerprint() of the model: config plus tensor names, dtypes and shapes.'),
  })
  .describe('The model this plan belongs to; a plan is refused for any other model.');

// Each entry names a layer and what happens to each token group there. Only visual freezing is
// supported; a later version may add a `text` key, which is why the mode sits under a named key.
const layerSchema = z
  .strictObject({
    index: layerIndex.describe('0-based decoder layer index.'),
    visual: z
      .literal('freeze', {
        error: (issue) =>
          `unsupported visual mode ${quoted(issue.input)}; this build supports "freeze" (unlisted layers run dense)`,
      })
      .describe('"freeze": visual hidden states pass through this layer unchanged.'),
  })
  .describe('A layer that does not run densely.');

const pruneSchema = z
  .strictObject({
    afterLayer: layerIndex.describe(
      'Visual tokens are ranked by attention in this layer; later layers see only the kept ones.',
    ),
    keep: z
      .number()
      .gt(0, { error: 'keep must be a share in (0, 1]' })
      .lte(1, { error: 'keep must be a share in (0, 1]' })
      .describe('Share of visual tokens kept (FastV: 1 - R).'),
  })
  .describe('FastV-style visual token pruning.');

const withdrawSchema = z
  .strictObject({
    fromLayer: layerIndex.describe('This layer and all later ones process text tokens only.'),
  })
  .describe('VTW-style visual token withdrawal.');

const lcSchema = z
  .strictObject({
    visual: z.array(z.number()).describe('Layer Contribution of visual tokens, one value per layer.'),
    text: z
      .array(z.number())
      .nullable()
      .describe('Layer Contribution of text tokens, or null if not measured.'),
    metric: z.string().min(1).describe('How LC was measured, e.g. "kl(p_mod||p)@answer[0]".'),
    direction: z
      .enum(['ascending', 'descending'])
      .describe(
        '"ascending": the smallest values mark the least useful layers (KL-style metrics); "descending": the largest do (similarity-style metrics).',
      ),
    samples: z.int().positive().describe('Calibration samples averaged.'),
  })
  .describe('The per-layer scores the layer choice was made from.');

const calibrationSchema = z
  .strictObject({
    dataset: z.string().min(1),
    samples: z.int().positive(),
    seed: z.int().optional(),
    createdWith: z.string().min(1).optional().describe('Tool and version that measured LC.'),
  })
  .describe('Where the calibration data came from.');

const estimateSchema = z
  .strictObject({
    visualTokens: z.int().nonnegative(),
    textTokens: z.int().nonnegative(),
    flopsRatio: z
      .number()
      .gt(0)
      .lte(1)
      .describe('Planned over dense LLM prefill FLOPs for these token counts.'),
  })
  .describe('Expected prefill cost, from the FLOPs model.');

const planObjectSchema = z.strictObject({
  format: z.literal(PLAN_FORMAT, {
    error: (issue) => `not a freeze plan: format is ${quoted(issue.input)}, expected "${PLAN_FORMAT}"`,
  }),
  version: z.literal(PLAN_VERSION, {
    error: (issue) =>
      `plan version ${quoted(issue.input)} is not supported; this build reads version ${PLAN_VERSION}`,
  }),
  model: modelSchema,
  layers: z.array(layerSchema).describe('Layers that do not run densely; unlisted layers run dense.'),
  prune: pruneSchema.nullable(),
  withdraw: withdrawSchema.nullable(),
  lc: lcSchema.nullable(),
  calibration: calibrationSchema.nullable(),
  estimate: estimateSchema.nullable(),
  createdAt: z.iso.datetime({ offset: true }).optional().describe('ISO 8601 time the plan was written.'),
});

/** The freeze-plan schema, v1. Structure and cross-field rules; the JSON Schema file is generated from it. */
export const freezePlanSchema = planObjectSchema
  .superRefine((plan, ctx) => {
    const layers = plan.model.numLayers;
    const range = `this model has ${layers} layers (0..${layers - 1})`;
    const firstSeen = new Map<number, number>();
    plan.layers.forEach((entry, position) => {
      if (entry.index >= layers) {
        ctx.addIssue({
          code: 'custom',
          path: ['layers', position, 'index'],
          message: `layer ${entry.index} is out of range; ${range}`,
        });
      }
      const earlier = firstSeen.get(entry.index);
      if (earlier === undefined) {
        firstSeen.set(entry.index, position);
      } else {
        ctx.addIssue({
          code: 'custom',
          path: ['layers', position, 'index'],
          message: `layer ${entry.index} is listed twice (first at $.layers[${earlier}])`,
        });
      }
    });
    if (plan.prune && plan.prune.afterLayer >= layers) {
      ctx.addIssue({
        code: 'custom',
        path: ['prune', 'afterLayer'],
        message: `layer ${plan.prune.afterLayer} is out of range; ${range}`,
      });
    }
    if (plan.withdraw && plan.withdraw.fromLayer >= layers) {
      ctx.addIssue({
        code: 'custom',
        path: ['withdraw', 'fromLayer'],
        message: `layer ${plan.withdraw.fromLayer} is out of range; ${range}`,
      });
    }
    if (plan.lc) {
      for (const group of ['visual', 'text'] as const) {
        const values = plan.lc[group];
        if (values && values.length !== layers) {
          ctx.addIssue({
            code: 'custom',
            path: ['lc', group],
            message: `has ${values.length} values; expected one per layer (${layers})`,
          });
        }
      }
    }
  })
  .meta({
    title: 'ShortV freeze plan v1',
    description:
      'Which decoder layers of a multimodal LLM freeze their visual tokens (ShortV), with optional FastV pruning and VTW withdrawal. Cross-field rules not expressible here: layer indices lie in [0, model.numLayers), no layer is listed twice, lc arrays have model.numLayers values.',
  });

export type FreezePlan = z.output<typeof freezePlanSchema>;
export type PlanModel = FreezePlan['model'];
export type PlanLayer = FreezePlan['layers'][number];
export type PlanPrune = NonNullable<FreezePlan['prune']>;
export type PlanWithdraw = NonNullable<FreezePlan['withdraw']>;
export type PlanLayerContribution = NonNullable<FreezePlan['lc']>;
export type PlanCalibration = NonNullable<FreezePlan['calibration']>;
export type PlanEstimate = NonNullable<FreezePlan['estimate']>;

/** JSON Schema (draft 2020-12) of the plan, generated from the zod schema above. */
export function freezePlanJsonSchema(): z.core.JSONSchema.JSONSchema {
  return z.toJSONSchema(freezePlanSchema, { target: 'draft-2020-12', io: 'input' });
}

/** The exact text of the shipped `schema/freeze-plan.v1.json`. */
export function freezePlanJsonSchemaText(): string {
  return `${JSON.stringify(freezePlanJsonSchema(), null, 2)}\n`;
}
