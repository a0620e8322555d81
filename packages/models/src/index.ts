export const PACKAGE_NAME = '@shortv/models';
