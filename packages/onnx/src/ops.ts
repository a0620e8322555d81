import type { Tensor } from '@shortv/tensor';
import type { Attributes } from './attributes.ts';
import { type OnnxDType, onnxDataType } from './proto.ts';

export const MS_DOMAIN = 'com.microsoft';

/** How an op's inputs are passed to its helper. */
type InputForm =
  | { kind: 'positional'; count: number } // f(a, b, c?, attrs?, options?)
  | { kind: 'list' } // f([a, b, ...], attrs?, options?)
  | { kind: 'named'; names: readonly string[] }; // f({ query, key, ... }, attrs?, options?)

export interface OpSpec {
  domain: string;
  inputs: InputForm;
  hasAttributes: boolean;
  /** Helpers of ops with several meaningful outputs return all output names; others return the first. */
  multiOutput: boolean;
  /** Number of outputs created when the caller does not say. */
  defaultOutputs: number;
}

const positional = (count: number, hasAttributes = false): OpSpec => ({
  domain: '',
  inputs: { kind: 'positional', count },
  hasAttributes,
  multiOutput: false,
  defaultOutputs: 1,
});

const FLOAT_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  Gemm: ['alpha', 'beta'],
  LayerNormalization: ['epsilon'],
  SimplifiedLayerNormalization: ['epsilon'],
  [`${MS_DOMAIN}:SkipSimplifiedLayerNormalization`]: ['epsilon'],
  [`${MS_DOMAIN}:RotaryEmbedding`]: ['scale'],
  [`${MS_DOMAIN}:MultiHeadAttention`]: ['scale', 'mask_filter_value'],
  [`${MS_DOMAIN}:GroupQueryAttention`]: ['scale', 'softcap'],
  LeakyRelu: ['alpha'],
  Elu: ['alpha'],
  HardSigmoid: ['alpha', 'beta'],
};

/** Whether an attribute of this op is FLOAT-typed in its schema (so integral JS numbers must not become INT). */
export function isFloatAttribute(domain: string, opType: string, attribute: string): boolean {
  const key = domain === '' || domain === 'ai.onnx' ? opType : `${domain}:${opType}`;
  return FLOAT_ATTRIBUTES[key]?.includes(attribute) ?? false;
}

const unary = positional(1);
const binary = positional(2);

export const OP_SPECS = {
  MatMul: binary,
  Gemm: positional(3, true),
  Add: binary,
  Sub: binary,
  Mul: binary,
  Div: binary,
  Pow: binary,
  Equal: binary,
  Less: binary,
  LessOrEqual: binary,
  Greater: binary,
  And: binary,
  Or: binary,
  Sqrt: unary,
  Reciprocal: unary,
  Neg: unary,
  Sigmoid: unary,
  Tanh: unary,
  Erf: unary,
  Relu: unary,
  Not: unary,
  Identity: unary,
  Shape: positional(1, true),
  ReduceMean: positional(2, true),
  Softmax: positional(1, true),
  Transpose: positional(1, true),
  Reshape: positional(2, true),
  Concat: { ...unary, inputs: { kind: 'list' }, hasAttributes: true },
  Max: { ...unary, inputs: { kind: 'list' } },
  Min: { ...unary, inputs: { kind: 'list' } },
  Gather: positional(2, true),
  GatherElements: positional(2, true),
  GatherND: positional(2, true),
  ScatterND: positional(3, true),
  ScatterElements: positional(3, true),
  Slice: positional(5),
  Unsqueeze: binary,
  Squeeze: binary,
  Expand: binary,
  Where: positional(3),
  Cast: positional(1, true),
  Conv: positional(3, true),
  LayerNormalization: positional(3, true),
  Range: positional(3),
  Trilu: positional(2, true),
  ConstantOfShape: positional(1, true),
  Split: { ...positional(2, true), multiOutput: true, defaultOutputs: 0 },
  // ONNX Runtime registers this contrib op in the default domain, not com.microsoft.
  SimplifiedLayerNormalization: positional(2, true),
  SkipSimplifiedLayerNormalization: {
    ...positional(4, true),
    domain: MS_DOMAIN,
    multiOutput: true,
    defaultOutputs: 4,
  },
  RotaryEmbedding: { ...positional(4, true), domain: MS_DOMAIN },
  MultiHeadAttention: {
    domain: MS_DOMAIN,
    inputs: {
      kind: 'named',
      names: [
        'query',
        'key',
        'value',
        'bias',
        'keyPaddingMask',
        'attentionBias',
        'pastKey',
        'pastValue',
        'pastSequenceLength',
        'cacheIndirection',
      ],
    },
    hasAttributes: true,
    multiOutput: true,
    defaultOutputs: 3,
  },
  GroupQueryAttention: {
    domain: MS_DOMAIN,
    inputs: {
      kind: 'named',
      names: [
        'query',
        'key',
        'value',
        'pastKey',
        'pastValue',
        'seqlensK',
        'totalSequenceLength',
        'cosCache',
        'sinCache',
        'positionIds',
        'attentionBias',
        'headSink',
      ],
    },
    hasAttributes: true,
    multiOutput: true,
    defaultOutputs: 3,
  },
} satisfies Record<string, OpSpec>;

export type OpName = keyof typeof OP_SPECS;

/** A value name in the graph. */
type V = string;
/** An optional input: undefined (or '') leaves the slot empty. */
type O = string | undefined;

/** How the outputs of a node are named: a count of auto-named outputs, or per output an exact name, `true` for
 * an auto name, or `null` to leave that optional output out. */
export type OutputSpec = number | readonly (string | true | null)[];

export interface NodeOptions {
  /** Node name inside the current scope (default: the op type). */
  name?: string;
  outputs?: OutputSpec;
}

type I = 0 | 1;
interface Axis {
  axis?: number;
}

export interface MultiHeadAttentionInputs {
  query: V;
  key?: O;
  value?: O;
  bias?: O;
  keyPaddingMask?: O;
  attentionBias?: O;
  pastKey?: O;
  pastValue?: O;
  pastSequenceLength?: O;
  cacheIndirection?: O;
}

export interface GroupQueryAttentionInputs {
  query: V;
  key?: O;
  value?: O;
  pastKey?: O;
  pastValue?: O;
  seqlensK: V;
  totalSequenceLength: V;
  cosCache?: O;
  sinCache?: O;
  positionIds?: O;
  attentionBias?: O;
  headSink?: O;
}

/** Typed helpers; each adds one node in the current scope and returns its output name(s). */
export interface OpHelpers {
  MatMul(a: V, b: V, o?: NodeOptions): V;
  Gemm(
    a: V,
    b: V,
    c?: O,
    attrs?: { alpha?: number; beta?: number; transA?: I; transB?: I },
    o?: NodeOptions,
  ): V;
  Add(a: V, b: V, o?: NodeOptions): V;
  Sub(a: V, b: V, o?: NodeOptions): V;
  Mul(a: V, b: V, o?: NodeOptions): V;
  Div(a: V, b: V, o?: NodeOptions): V;
  Pow(base: V, exponent: V, o?: NodeOptions): V;
  Equal(a: V, b: V, o?: NodeOptions): V;
  Less(a: V, b: V, o?: NodeOptions): V;
  LessOrEqual(a: V, b: V, o?: NodeOptions): V;
  Greater(a: V, b: V, o?: NodeOptions): V;
  And(a: V, b: V, o?: NodeOptions): V;
  Or(a: V, b: V, o?: NodeOptions): V;
  Sqrt(x: V, o?: NodeOptions): V;
  Reciprocal(x: V, o?: NodeOptions): V;
  Neg(x: V, o?: NodeOptions): V;
  Sigmoid(x: V, o?: NodeOptions): V;
  Tanh(x: V, o?: NodeOptions): V;
  Erf(x: V, o?: NodeOptions): V;
  Relu(x: V, o?: NodeOptions): V;
  Not(x: V, o?: NodeOptions): V;
  Identity(x: V, o?: NodeOptions): V;
  Shape(x: V, attrs?: { start?: number; end?: number }, o?: NodeOptions): V;
  ReduceMean(x: V, axes?: O, attrs?: { keepdims?: I; noop_with_empty_axes?: I }, o?: NodeOptions): V;
  Softmax(x: V, attrs?: Axis, o?: NodeOptions): V;
  Transpose(x: V, attrs?: { perm?: readonly number[] }, o?: NodeOptions): V;
  Reshape(x: V, shape: V, attrs?: { allowzero?: I }, o?: NodeOptions): V;
  Concat(inputs: readonly V[], attrs: { axis: number }, o?: NodeOptions): V;
  Max(inputs: readonly V[], o?: NodeOptions): V;
  Min(inputs: readonly V[], o?: NodeOptions): V;
  Gather(data: V, indices: V, attrs?: Axis, o?: NodeOptions): V;
  GatherElements(data: V, indices: V, attrs?: Axis, o?: NodeOptions): V;
  GatherND(data: V, indices: V, attrs?: { batch_dims?: number }, o?: NodeOptions): V;
  ScatterND(data: V, indices: V, updates: V, attrs?: { reduction?: string }, o?: NodeOptions): V;
  ScatterElements(data: V, indices: V, updates: V, attrs?: Axis & { reduction?: string }, o?: NodeOptions): V;
  Slice(data: V, starts: V, ends: V, axes?: O, steps?: O, o?: NodeOptions): V;
  Unsqueeze(x: V, axes: V, o?: NodeOptions): V;
  Squeeze(x: V, axes?: O, o?: NodeOptions): V;
  Expand(x: V, shape: V, o?: NodeOptions): V;
  Where(condition: V, x: V, y: V, o?: NodeOptions): V;
  Cast(x: V, attrs: { to: OnnxDType; saturate?: I }, o?: NodeOptions): V;
  Conv(
    x: V,
    w: V,
    b?: O,
    attrs?: {
      auto_pad?: string;
      dilations?: readonly number[];
      group?: number;
      kernel_shape?: readonly number[];
      pads?: readonly number[];
      strides?: readonly number[];
    },
    o?: NodeOptions,
  ): V;
  LayerNormalization(
    x: V,
    scale: V,
    bias?: O,
    attrs?: Axis & { epsilon?: number; stash_type?: number },
    o?: NodeOptions,
  ): V;
  Range(start: V, limit: V, delta: V, o?: NodeOptions): V;
  Trilu(x: V, k?: O, attrs?: { upper?: I }, o?: NodeOptions): V;
  ConstantOfShape(shape: V, attrs?: { value?: Tensor }, o?: NodeOptions): V;
  /** Give the output count with `attrs.num_outputs` or `o.outputs`. */
  Split(x: V, split?: O, attrs?: Axis & { num_outputs?: number }, o?: NodeOptions): V[];
  SimplifiedLayerNormalization(
    x: V,
    scale: V,
    attrs?: Axis & { epsilon?: number; stash_type?: number },
    o?: NodeOptions,
  ): V;
  /** Outputs: [output, mean, inv_std_var, input_skip_bias_sum]; pass `o.outputs` to keep only some. */
  SkipSimplifiedLayerNormalization(
    x: V,
    skip: V,
    gamma: V,
    bias?: O,
    attrs?: { epsilon?: number },
    o?: NodeOptions,
  ): V[];
  RotaryEmbedding(
    x: V,
    positionIds: V,
    cosCache: V,
    sinCache: V,
    attrs?: {
      interleaved?: I;
      is_packed_batching?: I;
      num_heads?: number;
      rotary_embedding_dim?: number;
      scale?: number;
    },
    o?: NodeOptions,
  ): V;
  /** Outputs: [output, present_key, present_value]. */
  MultiHeadAttention(
    inputs: MultiHeadAttentionInputs,
    attrs: { num_heads: number; mask_filter_value?: number; scale?: number; unidirectional?: I },
    o?: NodeOptions,
  ): V[];
  /** Outputs: [output, present_key, present_value]. */
  GroupQueryAttention(
    inputs: GroupQueryAttentionInputs,
    attrs: {
      num_heads: number;
      kv_num_heads: number;
      do_rotary?: I;
      local_window_size?: number;
      rotary_interleaved?: I;
      scale?: number;
      smooth_softmax?: I;
      softcap?: number;
    },
    o?: NodeOptions,
  ): V[];
}

export type AddNode = (
  opType: string,
  inputs: readonly O[],
  outputs: OutputSpec,
  attributes: Attributes | undefined,
  options: { domain: string; name?: string },
) => string[];

/** Builds the helper object from OP_SPECS: argument unpacking is generic, the interface above gives types. */
export function createOpHelpers(addNode: AddNode): OpHelpers {
  const helpers: Record<string, (...args: unknown[]) => string | string[]> = {};
  for (const [opType, spec] of Object.entries(OP_SPECS) as [string, OpSpec][]) {
    helpers[opType] = (...args: unknown[]) => {
      let inputs: O[];
      let rest: unknown[];
      if (spec.inputs.kind === 'positional') {
        inputs = args.slice(0, spec.inputs.count) as O[];
        rest = args.slice(spec.inputs.count);
      } else if (spec.inputs.kind === 'list') {
        inputs = [...(args[0] as readonly V[])];
        rest = args.slice(1);
      } else {
        const named = args[0] as Record<string, O>;
        inputs = spec.inputs.names.map((n) => named[n]);
        rest = args.slice(1);
      }
      let attrs = (spec.hasAttributes ? rest[0] : undefined) as Record<string, unknown> | undefined;
      const options = (spec.hasAttributes ? rest[1] : rest[0]) as NodeOptions | undefined;
      // Cast takes the target as a TensorProto.DataType code; callers name it as a dtype.
      if (opType === 'Cast' && attrs) attrs = { ...attrs, to: onnxDataType(attrs.to as OnnxDType) };
      const outputs = options?.outputs ?? defaultOutputCount(opType, spec, attrs);
      const names = addNode(opType, inputs, outputs, attrs as Attributes | undefined, {
        domain: spec.domain,
        ...(options?.name === undefined ? {} : { name: options.name }),
      });
      return spec.multiOutput ? names : names[0]!;
    };
  }
  return helpers as unknown as OpHelpers;
}

function defaultOutputCount(
  opType: string,
  spec: OpSpec,
  attrs: Record<string, unknown> | undefined,
): number {
  if (opType === 'Split') return (attrs?.num_outputs as number | undefined) ?? 0;
  return spec.defaultOutputs;
}
