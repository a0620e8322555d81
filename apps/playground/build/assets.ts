import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelShapesGolden } from '@shortv/model-shapes';
import type { Plugin } from 'vite';
import type { PlaygroundSample } from '../src/sample-index.ts';

// Vite bundles this config without the workspace's source condition, so the bundled model's package
// is read by path rather than imported.
const MODEL_SHAPES = fileURLToPath(new URL('../../../packages/model-shapes/', import.meta.url));
const modelShapesDir = () => join(MODEL_SHAPES, 'model');
const modelShapesSamplesDir = () => join(MODEL_SHAPES, 'samples');
const modelShapesGoldenPath = () => join(MODEL_SHAPES, 'golden', 'golden.json');

function sampleIndex(): PlaygroundSample[] {
  const golden = JSON.parse(readFileSync(modelShapesGoldenPath(), 'utf8')) as ModelShapesGolden;
  return golden.samples.map((s) => ({
    id: s.id,
    image: basename(s.image),
    family: s.family,
    question: s.question,
    expectedAnswer: s.expected_answer,
    textTokens: s.prompt_ids.filter((id) => id !== s.image_token_index).length,
  }));
}

/** Every static file the page needs besides its code: URL path (relative to the base) -> bytes. */
function assetTable(): Map<string, () => Uint8Array> {
  const table = new Map<string, () => Uint8Array>();
  for (const file of readdirSync(modelShapesDir())) {
    table.set(`model/${file}`, () => readFileSync(join(modelShapesDir(), file)));
  }
  const samples = sampleIndex();
  for (const sample of samples) {
    table.set(`samples/${sample.image}`, () => readFileSync(join(modelShapesSamplesDir(), sample.image)));
  }
  table.set('samples/index.json', () => new TextEncoder().encode(`${JSON.stringify(samples, null, 2)}\n`));
  return table;
}

const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.png': 'image/png',
  '.md': 'text/markdown',
  '.safetensors': 'application/octet-stream',
};

function contentType(path: string): string {
  const dot = path.lastIndexOf('.');
  return CONTENT_TYPES[dot < 0 ? '' : path.slice(dot)] ?? 'application/octet-stream';
}

/**
 * The bundled model and its golden samples as static files of the page: served by the dev server and
 * the preview server, written into the build, so the page needs nothing beyond its own origin.
 */
export function playgroundAssets(): Plugin {
  const table = assetTable();
  return {
    name: 'shortv-playground-assets',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = decodeURIComponent((req.url ?? '').split('?')[0] ?? '').replace(/^\/+/, '');
        const read = table.get(path);
        if (!read) return next();
        const bytes = read();
        res.setHeader('Content-Type', contentType(path));
        res.setHeader('Content-Length', String(bytes.byteLength));
        res.end(bytes);
      });
    },
    generateBundle() {
      for (const [fileName, read] of table) {
        this.emitFile({ type: 'asset', fileName, source: read() });
      }
    },
  };
}
