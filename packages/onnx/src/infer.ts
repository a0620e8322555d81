import type { AttributeProto, NodeProto, OnnxDType } from './proto.ts';
import { dtypeFromOnnx } from './proto.ts';

/** A value's element type, or undefined where it cannot be known (unknown op or unknown input). */
export type Dt = OnnxDType | undefined;

export interface InferResult {
  outputs: Dt[];
  /** Type-constraint violations, each a sentence about this node's inputs. */
  errors: string[];
}

type Rule = (ins: Dt[], node: NodeProto) => InferResult;

const FLOATS: readonly OnnxDType[] = ['float32', 'float16', 'bfloat16', 'float64'];
const INDEX: readonly OnnxDType[] = ['int32', 'int64'];
const INT64: readonly OnnxDType[] = ['int64'];
const BOOL: readonly OnnxDType[] = ['bool'];

function attribute(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

/** Checks the dtypes of `positions` (present and known ones only) are equal. */
function same(ins: Dt[], positions: readonly number[], errors: string[]): void {
  const present = positions.filter((p) => ins[p] !== undefined);
  const first = present[0];
  if (first === undefined) return;
  if (present.some((p) => ins[p] !== ins[first])) {
    const listed = present.map((p) => `#${p} ${ins[p]}`).join(', ');
    errors.push(`inputs must share one dtype, got ${listed}`);
  }
}

function allowed(
  ins: Dt[],
  position: number,
  dtypes: readonly OnnxDType[],
  errors: string[],
  what: string,
): void {
  const dt = ins[position];
  if (dt !== undefined && !dtypes.includes(dt)) {
    errors.push(`input #${position} (${what}) must be ${dtypes.join(' or ')}, got ${dt}`);
  }
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

function outputsLike(node: NodeProto, dt: Dt): Dt[] {
  return (node.output ?? []).map(() => dt);
}

/** Same dtype for all inputs; output is that dtype (or `result`). */
function elementwise(result?: OnnxDType, inputs?: readonly OnnxDType[]): Rule {
  return (ins, node) => {
    const errors: string[] = [];
    same(ins, range(0, ins.length), errors);
    if (inputs) for (let i = 0; i < ins.length; i++) allowed(ins, i, inputs, errors, 'operand');
    return { outputs: outputsLike(node, result ?? ins.find((d) => d !== undefined)), errors };
  };
}

/** Output follows input 0; `checks` constrains other inputs. */
function passthrough(
  checks: readonly [position: number, dtypes: readonly OnnxDType[], what: string][] = [],
  sameAs: readonly number[] = [],
  firstInput?: readonly OnnxDType[],
): Rule {
  return (ins, node) => {
    const errors: string[] = [];
    if (firstInput) allowed(ins, 0, firstInput, errors, 'input');
    for (const [position, dtypes, what] of checks) allowed(ins, position, dtypes, errors, what);
    if (sameAs.length > 0) same(ins, [0, ...sameAs], errors);
    return { outputs: outputsLike(node, ins[0]), errors };
  };
}

const unaryFloat = passthrough([], [], FLOATS);
const plain = passthrough();

const RULES: Readonly<Record<string, Rule>> = {
  Add: elementwise(),
  Sub: elementwise(),
  Mul: elementwise(),
  Div: elementwise(),
  Max: elementwise(),
  Min: elementwise(),
  Equal: elementwise('bool'),
  Less: elementwise('bool'),
  LessOrEqual: elementwise('bool'),
  Greater: elementwise('bool'),
  GreaterOrEqual: elementwise('bool'),
  And: elementwise('bool', BOOL),
  Or: elementwise('bool', BOOL),
  Not: elementwise('bool', BOOL),
  MatMul: elementwise(),
  Gemm: elementwise(),
  Conv: elementwise(),
  Concat: elementwise(),
  Range: elementwise(),
  Pow: plain,
  Neg: plain,
  Abs: plain,
  Relu: plain,
  Identity: plain,
  Transpose: plain,
  Sqrt: unaryFloat,
  Reciprocal: unaryFloat,
  Sigmoid: unaryFloat,
  Tanh: unaryFloat,
  Erf: unaryFloat,
  Exp: unaryFloat,
  Softmax: unaryFloat,
  ReduceMean: passthrough([[1, INT64, 'axes']]),
  Reshape: passthrough([[1, INT64, 'shape']]),
  Expand: passthrough([[1, INT64, 'shape']]),
  Unsqueeze: passthrough([[1, INT64, 'axes']]),
  Squeeze: passthrough([[1, INT64, 'axes']]),
  Trilu: passthrough([[1, INT64, 'k']]),
  Split: passthrough([[1, INT64, 'split']]),
  Gather: passthrough([[1, INDEX, 'indices']]),
  GatherElements: passthrough([[1, INDEX, 'indices']]),
  GatherND: passthrough([[1, INT64, 'indices']]),
  ScatterND: passthrough([[1, INT64, 'indices']], [2]),
  ScatterElements: passthrough([[1, INDEX, 'indices']], [2]),
  Slice: (ins, node) => {
    const errors: string[] = [];
    for (const [i, what] of ['starts', 'ends', 'axes', 'steps'].entries())
      allowed(ins, i + 1, INDEX, errors, what);
    same(ins, [1, 2, 3, 4], errors);
    return { outputs: outputsLike(node, ins[0]), errors };
  },
  Where: (ins, node) => {
    const errors: string[] = [];
    allowed(ins, 0, BOOL, errors, 'condition');
    same(ins, [1, 2], errors);
    return { outputs: outputsLike(node, ins[1] ?? ins[2]), errors };
  },
  Shape: (_ins, node) => ({ outputs: outputsLike(node, 'int64'), errors: [] }),
  Cast: (_ins, node) => ({ outputs: outputsLike(node, dtypeFromOnnx(attribute(node, 'to')?.i)), errors: [] }),
  ConstantOfShape: (ins, node) => {
    const errors: string[] = [];
    allowed(ins, 0, INT64, errors, 'shape');
    const value = attribute(node, 'value')?.t;
    return { outputs: outputsLike(node, value ? dtypeFromOnnx(value.dataType) : 'float32'), errors };
  },
  Constant: (_ins, node) => {
    const value = attribute(node, 'value')?.t;
    return { outputs: outputsLike(node, value ? dtypeFromOnnx(value.dataType) : undefined), errors: [] };
  },
  LayerNormalization: (ins, node) => {
    const errors: string[] = [];
    same(ins, [0, 1, 2], errors);
    allowed(ins, 0, FLOATS, errors, 'X');
    const stash = dtypeFromOnnx(attribute(node, 'stash_type')?.i ?? 1);
    return { outputs: (node.output ?? []).map((_, i) => (i === 0 ? ins[0] : stash)), errors };
  },
  // ONNX Runtime's schema: Y takes the dtype of `scale`, inv_std_var the stash type.
  SimplifiedLayerNormalization: (ins, node) => {
    const errors: string[] = [];
    allowed(ins, 0, FLOATS, errors, 'X');
    allowed(ins, 1, FLOATS, errors, 'scale');
    return { outputs: (node.output ?? []).map((_, i) => (i === 0 ? ins[1] : 'float32')), errors };
  },
  'com.microsoft:SkipSimplifiedLayerNormalization': (ins, node) => {
    const errors: string[] = [];
    same(ins, [0, 1, 2, 3], errors);
    allowed(ins, 0, FLOATS, errors, 'input');
    return { outputs: (node.output ?? []).map((_, i) => (i === 1 || i === 2 ? 'float32' : ins[0])), errors };
  },
  'com.microsoft:RotaryEmbedding': (ins, node) => {
    const errors: string[] = [];
    allowed(ins, 1, INT64, errors, 'position_ids');
    same(ins, [0, 2, 3], errors);
    return { outputs: outputsLike(node, ins[0]), errors };
  },
  'com.microsoft:MultiHeadAttention': (ins, node) => {
    const errors: string[] = [];
    same(ins, [0, 1, 2, 3, 6, 7], errors);
    return { outputs: outputsLike(node, ins[0]), errors };
  },
  'com.microsoft:GroupQueryAttention': (ins, node) => {
    const errors: string[] = [];
    same(ins, [0, 1, 2, 3, 4, 7, 8], errors);
    allowed(ins, 5, ['int32'], errors, 'seqlens_k');
    allowed(ins, 6, ['int32'], errors, 'total_sequence_length');
    allowed(ins, 9, INT64, errors, 'position_ids');
    return { outputs: outputsLike(node, ins[0]), errors };
  },
};

/** Output dtypes of one node from its input dtypes, plus the input constraints it breaks. */
export function inferNode(node: NodeProto, ins: Dt[]): InferResult {
  const domain = node.domain ?? '';
  const key = domain === '' || domain === 'ai.onnx' ? (node.opType ?? '') : `${domain}:${node.opType ?? ''}`;
  const rule = RULES[key];
  return rule ? rule(ins, node) : { outputs: outputsLike(node, undefined), errors: [] };
}
