export const PACKAGE_NAME = '@shortv/onnx';
