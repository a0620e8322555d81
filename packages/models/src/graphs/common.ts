import { type GraphBuilder, MS_DOMAIN } from '@shortv/onnx';
import { ShortvError, type Tensor } from '@shortv/tensor';
import type { Activation, LlavaConfig } from '../config/types.ts';
import type { WeightMap } from '../reference/math.ts';
import { expectedTensors } from '../weights/expected.ts';
import {
  ExternalWeights,
  type ExternalWeightTable,
  materializeWeight,
  quantizedWeightName,
  type StoredWeight,
  storedDType,
  type WeightQuantization,
} from './stored-weights.ts';

/** Everything an emitter needs: the graph being built, the config, and float32 weights by canonical name. */
export interface EmitContext {
  readonly g: GraphBuilder;
  readonly config: LlavaConfig;
  readonly weights: WeightMap;
  /** Initializers already added, by stored name: a weight used twice (e.g. one norm on all rows and on text rows) is stored once. */
  readonly stored: Map<string, V>;
  readonly options: EmitOptions;
  /** Set when the weights live in an external data file: initializers reference it instead of holding bytes. */
  readonly external?: ExternalWeightTable;
  /** Decoder Linear weights are block-quantized (MatMulNBits) when set. */
  readonly quantization?: WeightQuantization;
}

/** Optional fused operators (each checked for equality with the plain-op form in the tests). */
export interface EmitOptions {
  /** RMSNorm as onnxruntime's SimplifiedLayerNormalization instead of ReduceMean/Sqrt/Mul. */
  readonly fusedRmsNorm?: boolean;
}

export function emitContext(
  g: GraphBuilder,
  config: LlavaConfig,
  weights: WeightMap,
  options: EmitOptions = {},
): EmitContext {
  const external =
    weights instanceof ExternalWeights
      ? { external: weights.table, ...(weights.quantization ? { quantization: weights.quantization } : {}) }
      : {};
  return { g, config, weights, stored: new Map(), options, ...external };
}

/** Value names in the graph. */
export type V = string;

export function requireWeight(ctx: EmitContext, name: string): Tensor<'float32'> {
  const t = ctx.weights.get(name);
  if (t === undefined) {
    throw new ShortvError('E_MODEL_MISSING_TENSOR', `cannot emit the graph: weight ${name} was not loaded`);
  }
  return t;
}

/** A weight as stored (norm gammas, biases, embeddings), under its canonical name. */
export function plainWeight(ctx: EmitContext, name: string): V {
  return store(ctx, { stored: name, source: name, transform: 'plain' });
}

/** A weight stored under its canonical name with other dims (same elements in the same order). */
export function reshapedWeight(ctx: EmitContext, name: string, dims: readonly number[]): V {
  return store(ctx, { stored: name, source: name, transform: 'plain', dims });
}

function store(ctx: EmitContext, weight: StoredWeight): V {
  let value = ctx.stored.get(weight.stored);
  if (value === undefined) {
    if (ctx.external) {
      const ref = ctx.external.ref(weight);
      value = ctx.g.externalInitializer(weight.stored, storedDType(weight), ref.dims, ref);
    } else {
      value = ctx.g.initializer(weight.stored, materializeWeight(weight, requireWeight(ctx, weight.source)));
    }
    ctx.stored.set(weight.stored, value);
  }
  return value;
}

/** A PyTorch Linear weight [out, in] stored transposed to [in, out], so activations MatMul it directly. */
export function transposedWeight(ctx: EmitContext, name: string, storedAs = `${name}.T`): V {
  return store(ctx, { stored: storedAs, source: name, transform: 'transpose' });
}

const shapeTables = new WeakMap<LlavaConfig, Map<string, readonly number[]>>();

/** x W^T with W block-quantized: MatMulNBits reads the [out, in] layout as stored, no transpose. */
function quantizedMatMul(ctx: EmitContext, x: V, name: string, q: WeightQuantization): V {
  let shapes = shapeTables.get(ctx.config);
  if (!shapes) {
    shapes = expectedTensors(ctx.config);
    shapeTables.set(ctx.config, shapes);
  }
  const [n, k] = shapes.get(name) as [number, number];
  const packed = store(ctx, {
    stored: quantizedWeightName(name, q.bits),
    source: name,
    transform: 'quantized',
    quantization: q,
  });
  const scales = store(ctx, {
    stored: `${quantizedWeightName(name, q.bits)}.scales`,
    source: name,
    transform: 'scales',
    quantization: q,
  });
  return ctx.g.node(
    'MatMulNBits',
    [x, packed, scales],
    1,
    { K: k, N: n, bits: q.bits, block_size: q.blockSize },
    { domain: MS_DOMAIN },
  )[0]!;
}

/** x W^T + b for the Linear named `prefix` (`prefix.weight`, optional `prefix.bias`), in scope `scope`. */
export function linear(ctx: EmitContext, x: V, prefix: string, scope: string, bias: boolean): V {
  return ctx.g.scope(scope, () => {
    // Only the decoder layers' Linears are quantized: the LM head and the vision tower keep fp32.
    const y =
      ctx.quantization && prefix.startsWith('text.layers.')
        ? quantizedMatMul(ctx, x, `${prefix}.weight`, ctx.quantization)
        : ctx.g.op.MatMul(x, transposedWeight(ctx, `${prefix}.weight`));
    return bias ? ctx.g.op.Add(y, plainWeight(ctx, `${prefix}.bias`)) : y;
  });
}

export function scalar(ctx: EmitContext, value: number): V {
  return ctx.g.scalar('float32', value);
}

export function activation(ctx: EmitContext, x: V, act: Activation): V {
  const { g } = ctx;
  switch (act) {
    case 'gelu':
      return g.node('Gelu', [x], 1, { approximate: 'none' })[0]!;
    case 'gelu_tanh':
      return g.node('Gelu', [x], 1, { approximate: 'tanh' })[0]!;
    case 'quick_gelu':
      return g.op.Mul(x, g.op.Sigmoid(g.op.Mul(x, scalar(ctx, 1.702))));
    case 'silu':
      return g.op.Mul(x, g.op.Sigmoid(x));
    case 'relu':
      return g.op.Relu(x);
  }
}

/** RMSNorm over the last axis, as HF computes it: x * rsqrt(mean(x^2) + eps) * gamma. */
export function rmsNorm(ctx: EmitContext, x: V, gammaName: string, scope: string): V {
  const { g } = ctx;
  const eps = ctx.config.text.rmsNormEps;
  if (ctx.options.fusedRmsNorm) {
    return g.scope(scope, () =>
      g.op.SimplifiedLayerNormalization(x, plainWeight(ctx, gammaName), { axis: -1, epsilon: eps }),
    );
  }
  return g.scope(scope, () => {
    const meanSquare = g.op.ReduceMean(g.op.Mul(x, x), g.int64s([-1]), { keepdims: 1 });
    const inv = g.op.Reciprocal(g.op.Sqrt(g.op.Add(meanSquare, scalar(ctx, eps))));
    return g.op.Mul(g.op.Mul(x, inv), plainWeight(ctx, gammaName));
  });
}

export function layerNorm(ctx: EmitContext, x: V, prefix: string, scope: string): V {
  const { g } = ctx;
  return g.scope(scope, () =>
    g.op.LayerNormalization(x, plainWeight(ctx, `${prefix}.weight`), plainWeight(ctx, `${prefix}.bias`), {
      axis: -1,
      epsilon: ctx.config.vision.layerNormEps,
    }),
  );
}
