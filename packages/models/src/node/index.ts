export { nodeModelFolder } from './folder.ts';
