export const PACKAGE_NAME = '@shortv/shapes';
