export const PACKAGE_NAME = '@shortv/plan';
