export type { FileSource } from './files.ts';
export { openFileSource, openSafetensorsFile, openSafetensorsModel, writeSafetensorsFile } from './files.ts';
