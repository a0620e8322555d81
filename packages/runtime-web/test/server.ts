import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface FolderServer {
  /** Base URL of the folder served under `/model/`. */
  url: string;
  /** Every request path, in order. */
  requests: string[];
  /** Paths (inside the folder) answered 404 although the file exists. */
  hidden: Set<string>;
  /** Paths answered with this HTTP status instead of the file. */
  failing: Map<string, number>;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 (random port) serving `dir` under /model/, with Content-Length. */
export async function serveFolder(dir: string): Promise<FolderServer> {
  const requests: string[] = [];
  const hidden = new Set<string>();
  const failing = new Map<string, number>();
  const server: Server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    const name = path.startsWith('/model/') ? path.slice('/model/'.length) : '';
    const status = failing.get(name);
    if (status !== undefined) {
      res.writeHead(status).end('failing on purpose');
      return;
    }
    if (!name || name.includes('/') || hidden.has(name)) {
      res.writeHead(404).end('not found');
      return;
    }
    try {
      const bytes = await readFile(join(dir, name));
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.byteLength });
      // Several writes, so a large file arrives in several chunks.
      const step = 1 << 20;
      for (let at = 0; at < bytes.byteLength; at += step) res.write(bytes.subarray(at, at + step));
      res.end();
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/model/`,
    requests,
    hidden,
    failing,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
