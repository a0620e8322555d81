import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { ISOLATION_HEADERS } from '../build/headers.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
  '.md': 'text/markdown',
};

/**
 * The built site as a plain static host serves it, with the cross-origin isolation headers, and a
 * count of the bytes it sent per path (what the page fetched over the network).
 */
export interface StaticSite {
  origin: string;
  /** Bytes of response bodies sent since the last `resetCounts`, per URL path. */
  bytesByPath(): Map<string, number>;
  totalBytes(): number;
  resetCounts(): void;
  close(): Promise<void>;
}

export async function serveStatic(root: string): Promise<StaticSite> {
  let sent = new Map<string, number>();
  const server: Server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const relative = normalize(path === '/' ? '/index.html' : path).replace(/^[/\\]+/, '');
    if (relative.startsWith('..')) {
      res.writeHead(403).end();
      return;
    }
    const file = join(root, relative);
    try {
      const info = await stat(file);
      if (!info.isFile()) throw new Error('not a file');
      // Hashed build assets never change under one name; the rest is revalidated (ETag -> 304).
      const cache = relative.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
      const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
      const headers = {
        ...ISOLATION_HEADERS,
        'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
        'Cache-Control': cache,
        ETag: etag,
        'Last-Modified': info.mtime.toUTCString(),
      };
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, headers).end();
        return;
      }
      const body = await readFile(file);
      res.writeHead(200, { ...headers, 'Content-Length': String(body.byteLength) });
      res.end(req.method === 'HEAD' ? undefined : body);
      if (req.method !== 'HEAD') sent.set(path, (sent.get(path) ?? 0) + body.byteLength);
    } catch {
      res.writeHead(404, { ...ISOLATION_HEADERS, 'Content-Type': 'text/plain' }).end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    bytesByPath: () => new Map(sent),
    totalBytes: () => [...sent.values()].reduce((a, b) => a + b, 0),
    resetCounts: () => {
      sent = new Map();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
