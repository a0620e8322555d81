export { parseLlavaConfig, parseLlavaConfigText } from './config/parse.ts';
export type {
  Activation,
  LlavaConfig,
  RopeScaling,
  TextConfig,
  TextModelType,
  VisionConfig,
  VisionModelType,
} from './config/types.ts';
export {
  SUPPORTED_MODEL_TYPES,
  SUPPORTED_TEXT_MODEL_TYPES,
  SUPPORTED_VISION_MODEL_TYPES,
} from './config/types.ts';
