import {
  type DType,
  numberToBfloat16Bits,
  numberToFloat16Bits,
  ShortvError,
  Tensor,
  type TensorData,
} from '@shortv/tensor';
import { type Attributes, type AttributeValue, tensorToProto, toAttribute } from './attributes.ts';
import { assertValidModel } from './check.ts';
import { createOpHelpers, isFloatAttribute, MS_DOMAIN, type OpHelpers, type OutputSpec } from './ops.ts';
import {
  type AttributeProto,
  DataLocation,
  type ModelProto,
  type NodeProto,
  type OnnxDType,
  type OperatorSetIdProto,
  onnxDataType,
  type TensorProto,
  type ValueInfoProto,
} from './proto.ts';

/** Where an external initializer's bytes are: a file name and a byte range in it. */
export interface ExternalTensorRef {
  location: string;
  offset: number;
  length: number;
}

/** A dimension: a fixed size, or a symbolic name shared by every dimension with the same name ('batch'). */
export type Dim = number | string;

/**
 * IR version 10 with opset 21 (ONNX 1.16): onnxruntime loads this pair from 1.18 on (1.30 node and web
 * included), so cached graphs also open on older runtimes, and opset 21 already has everything the LLaVA
 * graphs need (LayerNormalization, ReduceMean/Split with axes as inputs, Trilu). com.microsoft contrib ops
 * have only ever had version 1.
 */
export const DEFAULT_IR_VERSION = 10;
export const DEFAULT_OPSET_IMPORTS: Readonly<Record<string, number>> = { '': 21, [MS_DOMAIN]: 1 };

export interface ToModelOptions {
  /** Opset version per domain ('' is the default ONNX domain); merged over the defaults for domains in use. */
  opsetImports?: Readonly<Record<string, number>>;
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  metadata?: Readonly<Record<string, string>>;
  /** Run `assertValidModel` on the result (default true). */
  check?: boolean;
}

export function valueInfo(name: string, dtype: OnnxDType, dims?: readonly Dim[] | null): ValueInfoProto {
  const tensorType: NonNullable<NonNullable<ValueInfoProto['type']>['tensorType']> = {
    elemType: onnxDataType(dtype),
  };
  if (dims) {
    tensorType.shape = { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) };
  }
  return { name, type: { tensorType } };
}

const SMALL_CONSTANT_ELEMENTS = 16;

export class GraphBuilder {
  readonly name: string;
  /** Typed helpers for common ops: `g.op.MatMul(x, w)`. */
  readonly op: OpHelpers;
  private readonly nodes: NodeProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly valueNames = new Set<string>();
  private readonly nodeNames = new Set<string>();
  private readonly constants = new Map<string, string>();
  private readonly domains = new Set<string>();
  private scopePath = '';

  constructor(name: string) {
    this.name = name;
    this.op = createOpHelpers((opType, inputs, outputs, attributes, options) =>
      this.node(opType, inputs, outputs, attributes, options),
    );
  }

  /** The current module path, e.g. '/model/layers.3/self_attn' ('' at the top). */
  get currentScope(): string {
    return this.scopePath;
  }

  /** Runs `fn` with nodes named under `path`; a path starting with '/' is absolute, others nest. */
  scope<T>(path: string, fn: () => T): T {
    const saved = this.scopePath;
    const trimmed = path.replace(/\/+$/, '');
    this.scopePath = trimmed.startsWith('/') ? trimmed : `${saved}/${trimmed}`;
    try {
      return fn();
    } finally {
      this.scopePath = saved;
    }
  }

  input(name: string, dtype: OnnxDType, dims: readonly Dim[]): string {
    this.claim(name, 'graph input');
    this.inputs.push(valueInfo(name, dtype, dims));
    return name;
  }

  /** A named weight, stored under exactly this name (not scoped); the tensor's memory is referenced, not copied. */
  initializer(name: string, tensor: Tensor): string {
    this.claim(name, 'initializer');
    this.initializers.push(tensorToProto(tensor, name));
    return name;
  }

  /**
   * A named weight whose bytes live in an external data file (`location`, relative to the directory the
   * runtime resolves external data against): the graph carries only the reference.
   */
  externalInitializer(
    name: string,
    dtype: OnnxDType,
    dims: readonly number[],
    ref: ExternalTensorRef,
  ): string {
    this.claim(name, 'initializer');
    this.initializers.push({
      name,
      dims: [...dims],
      dataType: onnxDataType(dtype),
      dataLocation: DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: ref.location },
        { key: 'offset', value: String(ref.offset) },
        { key: 'length', value: String(ref.length) },
      ],
    });
    return name;
  }

  /**
   * A constant value. Small constants with equal dtype, shape and content are shared; `name` (scoped) is
   * used for the first one.
   */
  constant(tensor: Tensor, name?: string): string {
    const key = tensor.size <= SMALL_CONSTANT_ELEMENTS ? constantKey(tensor) : undefined;
    const existing = key === undefined ? undefined : this.constants.get(key);
    if (existing !== undefined) return existing;
    const unique = this.uniqueValueName(`${this.scopePath}/${name ?? 'Constant'}_output_0`);
    this.claim(unique, 'constant');
    this.initializers.push(tensorToProto(tensor, unique));
    if (key !== undefined) this.constants.set(key, unique);
    return unique;
  }

  /** A 1-D int64 constant, e.g. a shape or axes list. */
  int64s(values: readonly (number | bigint)[]): string {
    return this.constant(
      new Tensor(
        'int64',
        BigInt64Array.from(values, (v) => BigInt(v)),
        [values.length],
      ),
    );
  }

  /** A 0-D constant (rank-0 tensor); float16/bfloat16 values are rounded to nearest even. */
  scalar(dtype: DType, value: number | boolean): string {
    const v = Number(value);
    const data: TensorData =
      dtype === 'int64'
        ? BigInt64Array.of(BigInt(v))
        : dtype === 'float16'
          ? Uint16Array.of(numberToFloat16Bits(v))
          : dtype === 'bfloat16'
            ? Uint16Array.of(numberToBfloat16Bits(v))
            : dtype === 'float32'
              ? Float32Array.of(v)
              : dtype === 'int32'
                ? Int32Array.of(v)
                : dtype === 'int8'
                  ? Int8Array.of(v)
                  : Uint8Array.of(v);
    return this.constant(new Tensor(dtype, data, []));
  }

  /**
   * Adds a node in the current scope. Optional inputs may be '' or undefined; attributes set to undefined are
   * left out. Returns the output names ('' for outputs left out with `null`).
   */
  node(
    opType: string,
    inputs: readonly (string | undefined)[],
    outputs: OutputSpec = 1,
    attributes?: Attributes,
    options: { domain?: string; name?: string } = {},
  ): string[] {
    const domain = options.domain ?? '';
    const nodeName = this.uniqueNodeName(`${this.scopePath}/${options.name ?? opType}`);
    const specs =
      typeof outputs === 'number' ? Array.from({ length: outputs }, () => true as const) : outputs;
    if (specs.length === 0) {
      throw new ShortvError(
        'E_ONNX_BUILD',
        `node '${nodeName}' (${opType}) has no outputs; pass an output count or names (for Split: num_outputs)`,
      );
    }
    const outputNames = specs.map((spec, i) => {
      if (spec === null) return '';
      const name = spec === true ? this.uniqueValueName(`${nodeName}_output_${i}`) : spec;
      this.claim(name, `output of node '${nodeName}'`);
      return name;
    });
    const input = inputs.map((v) => v ?? '');
    while (input.length > 0 && input[input.length - 1] === '') input.pop();
    const attribute: AttributeProto[] = [];
    for (const [key, value] of Object.entries(attributes ?? {}) as [string, AttributeValue][]) {
      if (value !== undefined) attribute.push(toAttribute(key, value, isFloatAttribute(domain, opType, key)));
    }
    const trimmedOutputs = [...outputNames];
    while (trimmedOutputs.length > 0 && trimmedOutputs[trimmedOutputs.length - 1] === '')
      trimmedOutputs.pop();
    this.nodes.push({
      name: nodeName,
      opType,
      ...(domain === '' ? {} : { domain }),
      input,
      output: trimmedOutputs,
      ...(attribute.length > 0 ? { attribute } : {}),
    });
    this.domains.add(domain);
    return outputNames;
  }

  /** Declares a graph output. With `from`, the value `from` is exposed under `name` through an Identity node. */
  output(
    name: string,
    dtype: OnnxDType,
    dims?: readonly Dim[] | null,
    options: { from?: string } = {},
  ): string {
    if (options.from !== undefined && options.from !== name) {
      this.node('Identity', [options.from], [name], undefined, { name: `Identity_${name}` });
    }
    if (this.outputs.some((o) => o.name === name)) {
      throw new ShortvError('E_ONNX_BUILD', `graph output '${name}' is declared twice`);
    }
    this.outputs.push(valueInfo(name, dtype, dims));
    return name;
  }

  toModel(options: ToModelOptions = {}): ModelProto {
    const versions = new Map<string, number>();
    for (const domain of this.domains) {
      const known = DEFAULT_OPSET_IMPORTS[domain];
      if (known !== undefined) versions.set(domain, known);
    }
    if (!versions.has('')) versions.set('', DEFAULT_OPSET_IMPORTS['']!);
    for (const [domain, version] of Object.entries(options.opsetImports ?? {})) versions.set(domain, version);
    const opsetImport: OperatorSetIdProto[] = [...versions].map(([domain, version]) => ({ domain, version }));
    const model: ModelProto = {
      irVersion: options.irVersion ?? DEFAULT_IR_VERSION,
      opsetImport,
      producerName: options.producerName ?? 'shortv',
      ...(options.producerVersion === undefined ? {} : { producerVersion: options.producerVersion }),
      ...(options.docString === undefined ? {} : { docString: options.docString }),
      graph: {
        name: this.name,
        node: [...this.nodes],
        initializer: [...this.initializers],
        input: [...this.inputs],
        output: [...this.outputs],
      },
      ...(options.metadata
        ? { metadataProps: Object.entries(options.metadata).map(([key, value]) => ({ key, value })) }
        : {}),
    };
    if (options.check ?? true) assertValidModel(model);
    return model;
  }

  private claim(name: string, what: string): void {
    if (name === '') throw new ShortvError('E_ONNX_BUILD', `a ${what} needs a non-empty name`);
    if (this.valueNames.has(name)) {
      throw new ShortvError(
        'E_ONNX_DUPLICATE_NAME',
        `value name '${name}' (${what}) is already used in graph '${this.name}'; every value needs its own name`,
      );
    }
    this.valueNames.add(name);
  }

  private uniqueNodeName(base: string): string {
    let name = base;
    for (let k = 1; this.nodeNames.has(name); k++) name = `${base}_${k}`;
    this.nodeNames.add(name);
    return name;
  }

  private uniqueValueName(base: string): string {
    let name = base;
    for (let k = 1; this.valueNames.has(name); k++) name = `${base}_${k}`;
    return name;
  }
}

function constantKey(tensor: Tensor): string {
  return `${tensor.dtype}[${tensor.dims.join(',')}]:${Array.from(tensor.data as ArrayLike<number | bigint>).join(',')}`;
}
