export type { ReadShapesOptions, ShapesDataset } from './read.ts';
export { readShapesDataset, readShapesImage } from './read.ts';
export type { WriteShapesOptions, WriteShapesResult } from './write.ts';
export { writeShapesDataset } from './write.ts';
