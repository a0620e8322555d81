export { isShortvError, ShortvError } from './errors.ts';
export type { FloatDType } from './float16.ts';
export {
  bfloat16BitsToNumber,
  bfloat16ToFloat32,
  castTensor,
  float16BitsToNumber,
  float16ToFloat32,
  float32ToBfloat16,
  float32ToFloat16,
  isFloatDType,
  numberToBfloat16Bits,
  numberToFloat16Bits,
} from './float16.ts';
export type { ClipProcessorConfig, ResizeTarget, ResolvedClipConfig } from './image/clip.ts';
export { clipPreprocess, OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, resolveClipConfig } from './image/clip.ts';
export { centerCrop, convertToRgb, normalize, rescale, toChwFloat32 } from './image/ops.ts';
export { Resample, resizeImage, resizeShortestEdge, shortestEdgeSize } from './image/resize.ts';
export type { FloatRgbImage, RawImage, RgbImage } from './image/types.ts';
export type { NumericRow, TopK } from './math.ts';
export { argmax, klDivergenceFromLogits, logSoftmax, softmax, topK } from './math.ts';
export type { OrtTensorData, OrtTensorLike, OrtTensorType } from './ort.ts';
export { fromOrtTensor, toOrtTensorData } from './ort.ts';
export { gatherRows, scatterRows } from './rows.ts';
export type { SafetensorsDType, SafetensorsHeader, SafetensorsTensorInfo } from './safetensors/header.ts';
export { MAX_HEADER_BYTES, SAFETENSORS_DTYPES } from './safetensors/header.ts';
export type { SafetensorsFile, TensorStore } from './safetensors/reader.ts';
export { openSafetensors } from './safetensors/reader.ts';
export type { SafetensorsIndex, ShardedSafetensors } from './safetensors/sharded.ts';
export { openShardedSafetensors, parseSafetensorsIndex } from './safetensors/sharded.ts';
export type { ByteSource } from './safetensors/source.ts';
export { bytesSource } from './safetensors/source.ts';
export { writeSafetensors } from './safetensors/writer.ts';
export type { DataTypeMap, DType, TensorData } from './tensor.ts';
export { BYTES_PER_ELEMENT, elementCount, Tensor } from './tensor.ts';
