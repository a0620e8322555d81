export const CLI_VERSION = '0.0.0';
