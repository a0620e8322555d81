/**
 * Cross-origin isolation: with these two headers the page gets SharedArrayBuffer, so onnxruntime-web
 * runs its multi-threaded wasm build. Without them (a host that cannot set headers) the page still
 * works, single-threaded. Every static host that should serve the built site needs them on every file.
 */
export const ISOLATION_HEADERS: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};
