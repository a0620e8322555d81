import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelShapesFile } from '../index.ts';

// src/node/ and dist/node/ both sit two levels below the package root.
const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Absolute path of the package root (holds model/, golden/ and samples/). */
export function modelShapesPackageDir(): string {
  return packageRoot;
}

/** Absolute path of the bundled Hugging Face model folder. */
export function modelShapesDir(): string {
  return join(packageRoot, 'model');
}

/** Absolute path of one file of the model folder. */
export function modelShapesFilePath(file: ModelShapesFile): string {
  return join(packageRoot, 'model', file);
}

/** Absolute path of golden/golden.json. */
export function modelShapesGoldenPath(): string {
  return join(packageRoot, 'golden', 'golden.json');
}

/** Absolute path of golden/metrics.json (test accuracy of the bundled model). */
export function modelShapesMetricsPath(): string {
  return join(packageRoot, 'golden', 'metrics.json');
}

/** Absolute path of the folder holding the golden samples' images. */
export function modelShapesSamplesDir(): string {
  return join(packageRoot, 'samples');
}
