import { ShortvError, Tensor } from '@shortv/tensor';
import { type AttributeProto, AttributeType, onnxDataType, type TensorProto } from './proto.ts';

/** Marks a number (or list) as a FLOAT attribute even when its value happens to be an integer. */
export class FloatAttribute {
  constructor(readonly value: number | readonly number[]) {}
}

export function float(value: number | readonly number[]): FloatAttribute {
  return new FloatAttribute(value);
}

/**
 * Attribute values as JS sees them. Integral numbers become INT(S) unless the op declares the attribute as
 * float or the value is wrapped with `float()`; `undefined` drops the attribute so callers can pass optional
 * settings straight through.
 */
export type AttributeValue =
  | number
  | boolean
  | string
  | Tensor
  | FloatAttribute
  | readonly number[]
  | readonly string[]
  | readonly Tensor[]
  | undefined;

export type Attributes = Readonly<Record<string, AttributeValue>>;

export function tensorToProto(tensor: Tensor, name?: string): TensorProto {
  return {
    ...(name === undefined ? {} : { name }),
    dims: [...tensor.dims],
    dataType: onnxDataType(tensor.dtype),
    rawData: tensor.bytes(),
  };
}

const utf8 = new TextEncoder();

function numbersAttribute(name: string, values: readonly number[], asFloat: boolean): AttributeProto {
  if (asFloat || values.some((v) => !Number.isInteger(v))) {
    return { name, type: AttributeType.FLOATS, floats: [...values] };
  }
  for (const v of values) checkSafeInteger(name, v);
  return { name, type: AttributeType.INTS, ints: [...values] };
}

function checkSafeInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value)) {
    throw new ShortvError(
      'E_ONNX_ATTRIBUTE',
      `attribute '${name}' = ${value} is not exactly representable; pass a tensor input for 64-bit values`,
    );
  }
}

export function toAttribute(
  name: string,
  value: Exclude<AttributeValue, undefined>,
  isFloat: boolean,
): AttributeProto {
  if (value instanceof FloatAttribute) {
    return typeof value.value === 'number'
      ? { name, type: AttributeType.FLOAT, f: value.value }
      : numbersAttribute(name, value.value, true);
  }
  if (value instanceof Tensor) return { name, type: AttributeType.TENSOR, t: tensorToProto(value) };
  if (typeof value === 'boolean') return { name, type: AttributeType.INT, i: value ? 1 : 0 };
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: utf8.encode(value) };
  if (typeof value === 'number') {
    if (isFloat || !Number.isInteger(value)) return { name, type: AttributeType.FLOAT, f: value };
    checkSafeInteger(name, value);
    return { name, type: AttributeType.INT, i: value };
  }
  if (value.length > 0 && value.every((v) => typeof v === 'string')) {
    return {
      name,
      type: AttributeType.STRINGS,
      strings: (value as readonly string[]).map((v) => utf8.encode(v)),
    };
  }
  if (value.length > 0 && value.every((v) => v instanceof Tensor)) {
    return {
      name,
      type: AttributeType.TENSORS,
      tensors: (value as readonly Tensor[]).map((t) => tensorToProto(t)),
    };
  }
  if (value.every((v) => typeof v === 'number'))
    return numbersAttribute(name, value as readonly number[], isFloat);
  throw new ShortvError(
    'E_ONNX_ATTRIBUTE',
    `attribute '${name}' mixes value kinds; use one of numbers, strings or tensors`,
  );
}
