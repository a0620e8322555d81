import { BYTES_PER_ELEMENT, type DType, ShortvError } from '@shortv/tensor';
import { type Dt, inferNode } from './infer.ts';
import {
  DataLocation,
  dtypeFromOnnx,
  type ModelProto,
  type TensorProto,
  type ValueInfoProto,
} from './proto.ts';

export type ProblemKind =
  | 'dangling-input'
  | 'unsorted-nodes'
  | 'duplicate-producer'
  | 'missing-output'
  | 'initializer-mismatch'
  | 'dtype-mismatch'
  | 'unknown-domain'
  | 'missing-opset';

export interface ModelProblem {
  kind: ProblemKind;
  /** Node the problem is about, where there is one. */
  node?: string;
  /** Value (tensor name) the problem is about, where there is one. */
  value?: string;
  message: string;
}

interface Declared {
  dtype: Dt;
  dims: (number | string | undefined)[] | undefined;
}

function declared(info: ValueInfoProto): Declared {
  const tensorType = info.type?.tensorType;
  const dims = tensorType?.shape?.dim?.map((d) => d.dimValue ?? d.dimParam);
  return { dtype: dtypeFromOnnx(tensorType?.elemType), dims };
}

function sameDims(a: readonly (number | string | undefined)[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => typeof d !== 'number' || d === b[i]);
}

const normalizeDomain = (domain: string | undefined): string => (domain === 'ai.onnx' ? '' : (domain ?? ''));

function checkInitializerPayload(init: TensorProto, dtype: Dt, problems: ModelProblem[]): void {
  if (!init.rawData || dtype === undefined || !(dtype in BYTES_PER_ELEMENT)) return;
  if (init.dataLocation === DataLocation.EXTERNAL) return;
  const expected = (init.dims ?? []).reduce((n, d) => n * d, 1) * BYTES_PER_ELEMENT[dtype as DType];
  if (init.rawData.byteLength !== expected) {
    problems.push({
      kind: 'initializer-mismatch',
      value: init.name ?? '',
      message: `initializer '${init.name}' has shape [${(init.dims ?? []).join(', ')}] of ${dtype} (${expected} bytes) but holds ${init.rawData.byteLength} bytes`,
    });
  }
}

/**
 * Structural and dtype checks that catch the usual graph-emitter mistakes before a runtime reports them
 * vaguely (or not at all): names consumed but never produced, names produced twice, outputs never produced,
 * initializers that disagree with the input they back, dtype mismatches (found by propagating dtypes forward
 * through the ops this package knows), and domains without an opset import.
 */
export function checkModel(model: ModelProto): ModelProblem[] {
  const problems: ModelProblem[] = [];
  const graph = model.graph ?? {};
  const imported = new Set((model.opsetImport ?? []).map((o) => normalizeDomain(o.domain)));
  if (!imported.has('')) {
    problems.push({
      kind: 'missing-opset',
      message: `the model imports no version of the default ONNX domain`,
    });
  }

  const dtypes = new Map<string, Dt>();
  const inputs = new Map<string, Declared>();
  const produce = (name: string, dtype: Dt, by: string, node?: string): void => {
    if (dtypes.has(name)) {
      problems.push({
        kind: 'duplicate-producer',
        value: name,
        ...(node === undefined ? {} : { node }),
        message: `value '${name}' is produced more than once (again by ${by}); every value needs a single producer`,
      });
      return;
    }
    dtypes.set(name, dtype);
  };

  for (const info of graph.input ?? []) {
    const d = declared(info);
    inputs.set(info.name ?? '', d);
    produce(info.name ?? '', d.dtype, 'a graph input');
  }
  for (const init of graph.initializer ?? []) {
    const name = init.name ?? '';
    const dtype = dtypeFromOnnx(init.dataType);
    checkInitializerPayload(init, dtype, problems);
    const input = inputs.get(name);
    if (input) {
      // An initializer may back a graph input of the same name (a default value); they must agree.
      const dimsDiffer = input.dims !== undefined && !sameDims(input.dims, init.dims ?? []);
      if ((input.dtype !== undefined && input.dtype !== dtype) || dimsDiffer) {
        problems.push({
          kind: 'initializer-mismatch',
          value: name,
          message: `initializer '${name}' is ${dtype} [${(init.dims ?? []).join(', ')}] but the graph input it backs is declared ${input.dtype} [${(input.dims ?? []).join(', ')}]`,
        });
      }
      continue;
    }
    produce(name, dtype, 'an initializer');
  }

  const nodes = graph.node ?? [];
  const laterProducers = new Map<string, string>();
  nodes.forEach((node, i) => {
    for (const out of node.output ?? []) if (out !== '') laterProducers.set(out, node.name || `#${i}`);
  });

  const reportedDomains = new Set<string>();
  nodes.forEach((node, index) => {
    const nodeName = node.name || `#${index} (${node.opType})`;
    const domain = normalizeDomain(node.domain);
    // A missing default-domain import is reported once as 'missing-opset', not again per node.
    if (domain !== '' && !imported.has(domain) && !reportedDomains.has(domain)) {
      reportedDomains.add(domain);
      problems.push({
        kind: 'unknown-domain',
        node: nodeName,
        message: `node '${nodeName}' uses domain '${domain}' but the model has no opset import for it; add { domain: '${domain}', version: N } to opsetImport`,
      });
    }
    const ins: Dt[] = [];
    for (const input of node.input ?? []) {
      if (input === '') {
        ins.push(undefined);
        continue;
      }
      if (!dtypes.has(input)) {
        const later = laterProducers.get(input);
        problems.push(
          later === undefined
            ? {
                kind: 'dangling-input',
                node: nodeName,
                value: input,
                message: `node '${nodeName}' (${node.opType}) consumes '${input}', which no input, initializer or node produces`,
              }
            : {
                kind: 'unsorted-nodes',
                node: nodeName,
                value: input,
                message: `node '${nodeName}' consumes '${input}' before node '${later}' produces it; nodes must be in topological order`,
              },
        );
      }
      ins.push(dtypes.get(input));
    }
    const result = inferNode(node, ins);
    for (const error of result.errors) {
      problems.push({
        kind: 'dtype-mismatch',
        node: nodeName,
        message: `node '${nodeName}' (${node.opType}): ${error}`,
      });
    }
    (node.output ?? []).forEach((out, i) => {
      if (out !== '') produce(out, result.outputs[i], `node '${nodeName}'`, nodeName);
    });
  });

  for (const info of graph.output ?? []) {
    const name = info.name ?? '';
    if (!dtypes.has(name)) {
      problems.push({
        kind: 'missing-output',
        value: name,
        message: `graph output '${name}' is never produced by an input, initializer or node`,
      });
      continue;
    }
    const want = declared(info).dtype;
    const got = dtypes.get(name);
    if (want !== undefined && got !== undefined && want !== got) {
      problems.push({
        kind: 'dtype-mismatch',
        value: name,
        message: `graph output '${name}' is declared ${want} but computed as ${got}`,
      });
    }
  }
  return problems;
}

/** Throws `E_ONNX_INVALID` listing every problem `checkModel` finds. */
export function assertValidModel(model: ModelProto): void {
  const problems = checkModel(model);
  if (problems.length === 0) return;
  const shown = problems.slice(0, 20).map((p) => `  - ${p.message}`);
  if (problems.length > 20) shown.push(`  - ... and ${problems.length - 20} more`);
  throw new OnnxInvalidError(
    `ONNX graph '${model.graph?.name ?? ''}' has ${problems.length} problem(s):\n${shown.join('\n')}`,
    problems,
  );
}

/** `E_ONNX_INVALID`, carrying the problems so callers and tests can inspect them. */
export class OnnxInvalidError extends ShortvError {
  readonly problems: readonly ModelProblem[];

  constructor(message: string, problems: readonly ModelProblem[]) {
    super('E_ONNX_INVALID', message);
    this.problems = problems;
  }
}
