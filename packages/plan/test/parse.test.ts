import { ShortvError } from '@shortv/tensor';
import { describe, expect, it } from 'vitest';
import { type PlanIssue, PlanValidationError, parsePlan, serializePlan } from '../src/index.ts';
import { examplePlan } from './examples.ts';

function issuesOf(input: unknown): readonly PlanIssue[] {
  try {
    parsePlan(input);
  } catch (error) {
    expect(error).toBeInstanceOf(PlanValidationError);
    expect(error).toBeInstanceOf(ShortvError);
    expect((error as PlanValidationError).code).toBe('E_PLAN_INVALID');
    return (error as PlanValidationError).issues;
  }
  throw new Error('expected the plan to be rejected');
}

function withChange(change: (plan: Record<string, unknown>) => void): Record<string, unknown> {
  const plan = examplePlan() as unknown as Record<string, unknown>;
  change(plan);
  return plan;
}

describe('parsePlan: accepted plans', () => {
  it('returns a valid plan unchanged', () => {
    expect(parsePlan(examplePlan())).toEqual(examplePlan());
  });

  it('accepts the minimal plan: no layers, every optional part null or absent', () => {
    const plan = withChange((p) => {
      p.layers = [];
      p.lc = null;
      p.calibration = null;
      p.estimate = null;
      delete p.createdAt;
      (p.model as Record<string, unknown>).hiddenSize = undefined;
    });
    expect(parsePlan(plan).layers).toEqual([]);
  });

  it('accepts FastV pruning and VTW withdrawal inside the model', () => {
    const plan = withChange((p) => {
      p.prune = { afterLayer: 1, keep: 0.5 };
      p.withdraw = { fromLayer: 11 };
    });
    const parsed = parsePlan(plan);
    expect(parsed.prune).toEqual({ afterLayer: 1, keep: 0.5 });
    expect(parsed.withdraw).toEqual({ fromLayer: 11 });
  });
});

describe('parsePlan: rejected plans name the field and the problem', () => {
  it('refuses another version with one specific message', () => {
    const issues = issuesOf(withChange((p) => (p.version = 2)));
    expect(issues).toEqual([
      { path: '$.version', message: 'plan version 2 is not supported; this build reads version 1' },
    ]);
  });

  it('refuses another version even when the rest of the plan is shaped differently', () => {
    const issues = issuesOf({ format: 'shortv.freeze-plan', version: 2, frozen: [1, 2] });
    expect(issues).toHaveLength(1);
    expect(issues[0]!.message).toContain('plan version 2 is not supported');
  });

  it('refuses a document that is not a plan', () => {
    const issues = issuesOf(withChange((p) => (p.format = 'something-else')));
    expect(issues).toContainEqual({
      path: '$.format',
      message: 'not a freeze plan: format is "something-else", expected "shortv.freeze-plan"',
    });
  });

  it('refuses a layer index beyond the model', () => {
    const issues = issuesOf(
      withChange((p) => (p.layers as { index: number }[]).push({ index: 12 } as never)),
    );
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe('$.layers[4].visual');
    const plan = withChange((p) => ((p.layers as { index: number }[])[3]!.index = 12));
    expect(issuesOf(plan)).toEqual([
      { path: '$.layers[3].index', message: 'layer 12 is out of range; this model has 12 layers (0..11)' },
    ]);
  });

  it('refuses a layer index that is negative, fractional or not a number', () => {
    const negative = issuesOf(withChange((p) => ((p.layers as { index: number }[])[1]!.index = -1)));
    expect(negative).toEqual([
      { path: '$.layers[1].index', message: 'expected a layer index (an integer >= 0), got -1' },
    ]);
    const fractional = issuesOf(withChange((p) => ((p.layers as { index: unknown }[])[2]!.index = 1.5)));
    expect(fractional).toEqual([
      { path: '$.layers[2].index', message: 'expected a layer index (an integer >= 0), got 1.5' },
    ]);
    const text = issuesOf(withChange((p) => ((p.layers as { index: unknown }[])[2]!.index = '1')));
    expect(text).toEqual([
      { path: '$.layers[2].index', message: 'expected a layer index (an integer >= 0), got "1"' },
    ]);
  });

  it('refuses a layer listed twice, pointing at the repeat and the first', () => {
    const plan = withChange((p) => (p.layers as unknown[]).push({ index: 9, visual: 'freeze' }));
    expect(issuesOf(plan)).toEqual([
      { path: '$.layers[4].index', message: 'layer 9 is listed twice (first at $.layers[1])' },
    ]);
  });

  it('refuses a visual mode this build does not support', () => {
    const plan = withChange((p) => ((p.layers as { visual: string }[])[0]!.visual = 'skip'));
    expect(issuesOf(plan)).toEqual([
      {
        path: '$.layers[0].visual',
        message: 'unsupported visual mode "skip"; this build supports "freeze" (unlisted layers run dense)',
      },
    ]);
  });

  it('refuses unknown fields at the top level and nested, one issue per field', () => {
    const plan = withChange((p) => {
      p.frozenLayers = [1, 2];
      (p.model as Record<string, unknown>).revision = 'main';
      (p.layers as Record<string, unknown>[])[2]!.text = 'freeze';
      p.prune = { afterLayer: 1, keep: 0.5, rank: 'attention' };
    });
    expect(issuesOf(plan)).toEqual(
      expect.arrayContaining([
        { path: '$.frozenLayers', message: 'unknown field "frozenLayers"' },
        { path: '$.model.revision', message: 'unknown field "revision"' },
        { path: '$.layers[2].text', message: 'unknown field "text"' },
        { path: '$.prune.rank', message: 'unknown field "rank"' },
      ]),
    );
    expect(issuesOf(plan)).toHaveLength(4);
  });

  it('quotes field names that are not identifiers', () => {
    const issues = issuesOf(withChange((p) => (p['flops ratio'] = 0.5)));
    expect(issues).toEqual([{ path: '$["flops ratio"]', message: 'unknown field "flops ratio"' }]);
  });

  it('refuses LC arrays whose length is not the layer count', () => {
    const plan = withChange((p) => {
      const lc = p.lc as Record<string, unknown>;
      lc.visual = [0.1, 0.2];
      lc.text = new Array(13).fill(0);
    });
    expect(issuesOf(plan)).toEqual([
      { path: '$.lc.visual', message: 'has 2 values; expected one per layer (12)' },
      { path: '$.lc.text', message: 'has 13 values; expected one per layer (12)' },
    ]);
  });

  it('refuses prune and withdraw layers beyond the model, and keep outside (0, 1]', () => {
    const plan = withChange((p) => {
      p.prune = { afterLayer: 12, keep: 0.5 };
      p.withdraw = { fromLayer: 40 };
    });
    expect(issuesOf(plan)).toEqual([
      { path: '$.prune.afterLayer', message: 'layer 12 is out of range; this model has 12 layers (0..11)' },
      { path: '$.withdraw.fromLayer', message: 'layer 40 is out of range; this model has 12 layers (0..11)' },
    ]);
    for (const keep of [0, 1.5]) {
      const issues = issuesOf(withChange((p) => (p.prune = { afterLayer: 1, keep })));
      expect(issues).toEqual([{ path: '$.prune.keep', message: 'keep must be a share in (0, 1]' }]);
    }
  });

  it('refuses a malformed fingerprint and a missing model', () => {
    const bad = issuesOf(withChange((p) => ((p.model as Record<string, unknown>).fingerprint = 'md5:abc')));
    expect(bad).toEqual([
      { path: '$.model.fingerprint', message: 'expected "sha256:" followed by 64 lower-case hex digits' },
    ]);
    const missing = issuesOf(withChange((p) => delete p.model));
    expect(missing.map((i) => i.path)).toEqual(['$.model']);
  });

  it('lists every problem in the error message, one per line', () => {
    const plan = withChange((p) => {
      ((p.layers as { visual: string }[])[0] as { visual: string }).visual = 'skip';
      p.extra = true;
    });
    let message = '';
    try {
      parsePlan(plan);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('Invalid freeze plan (2 problems):');
    expect(message).toContain('\n  $.layers[0].visual: unsupported visual mode "skip"');
    expect(message).toContain('\n  $.extra: unknown field "extra"');
  });

  it('refuses JSON text that does not parse with E_PLAN_JSON', () => {
    expect(() => parsePlan('{"format": "shortv.freeze-plan",')).toThrow(
      expect.objectContaining({ code: 'E_PLAN_JSON' }),
    );
  });

  it('refuses a value that is not an object', () => {
    expect(issuesOf('[1, 2]')).toEqual([{ path: '$', message: expect.stringMatching(/object/) }]);
  });
});

describe('serializePlan', () => {
  it('round-trips through JSON text', () => {
    const plan = examplePlan();
    const text = serializePlan(plan);
    const back = parsePlan(text);
    expect(back).toEqual({ ...plan, layers: [...plan.layers].sort((a, b) => a.index - b.index) });
    expect(serializePlan(back)).toBe(text);
  });

  it('writes the same text whatever the key order of the input', () => {
    const plan = examplePlan();
    const shuffled = Object.fromEntries(
      Object.entries(plan)
        .reverse()
        .map(([k, v]) =>
          v && typeof v === 'object' && !Array.isArray(v)
            ? [k, Object.fromEntries(Object.entries(v).reverse())]
            : [k, v],
        ),
    );
    expect(serializePlan(shuffled as never)).toBe(serializePlan(plan));
  });

  it('writes layers in index order, one per line, and keeps numeric arrays on one line', () => {
    const text = serializePlan(examplePlan());
    const layerLines = text.split('\n').filter((line) => line.includes('"visual": "freeze"'));
    expect(layerLines.map((line) => JSON.parse(line.trim().replace(/,$/, '')).index)).toEqual([0, 9, 10, 11]);
    expect(text).toContain('"visual": [0.02, 0.3, 0.25');
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.startsWith('{\n  "format": "shortv.freeze-plan",\n  "version": 1,\n')).toBe(true);
  });

  it('refuses to write an invalid plan', () => {
    const plan = withChange((p) => ((p.layers as { index: number }[])[0]!.index = 99));
    expect(() => serializePlan(plan as never)).toThrow(PlanValidationError);
  });
});
