export { isShortvError, ShortvError } from './errors.ts';
export type { DataTypeMap, DType, TensorData } from './tensor.ts';
export { BYTES_PER_ELEMENT, elementCount, Tensor } from './tensor.ts';
