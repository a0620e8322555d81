export const PACKAGE_NAME = '@shortv/model-shapes';
