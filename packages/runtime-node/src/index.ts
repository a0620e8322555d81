export { DiskGraphCache } from './graph-cache.ts';
