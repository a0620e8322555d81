import { defineConfig } from 'vite';
import { playgroundAssets } from './build/assets.ts';
import { ISOLATION_HEADERS } from './build/headers.ts';

// Workspace packages resolve to their TypeScript sources, as in tests and the CLI.
const conditions = ['@shortv/source', 'module', 'browser', 'import', 'default'];

export default defineConfig({
  // Relative base: the built site works from any folder of any static host.
  base: './',
  resolve: { conditions },
  worker: { format: 'es' },
  // onnxruntime-web finds its .wasm next to its own module; pre-bundling would move it.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  plugins: [playgroundAssets()],
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
  build: { target: 'es2022', chunkSizeWarningLimit: 2048 },
});
