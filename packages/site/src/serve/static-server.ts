/** A small static file server for the built site (for `npm start` and the browser tests). */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
};

export interface RunningServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** The file a request path names inside `dir`, or undefined (outside `dir`, or missing). */
export function fileFor(dir: string, urlPath: string): string | undefined {
  let path: string;
  try {
    path = decodeURIComponent(urlPath.split('?')[0] ?? '/');
  } catch {
    return undefined;
  }
  const base = resolve(dir);
  let file = resolve(base, `.${sep}${normalize(path)}`);
  if (file !== base && !file.startsWith(base + sep)) return undefined;
  try {
    if (statSync(file).isDirectory()) file = join(file, 'index.html');
    return statSync(file).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

export function serveStatic(dir: string, port = 0, host = '127.0.0.1'): Promise<RunningServer> {
  const server = createServer((request, response) => {
    const file = fileFor(dir, request.url ?? '/');
    const notFound = file ? undefined : fileFor(dir, '/404.html');
    const sent = file ?? notFound;
    if (!sent) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    response.writeHead(file ? 200 : 404, {
      'content-type': TYPES[extname(sent)] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
    });
    createReadStream(sent).pipe(response);
  });
  return new Promise((resolveServer, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: actual } = server.address() as AddressInfo;
      resolveServer({
        server,
        url: `http://${host === '127.0.0.1' ? 'localhost' : host}:${actual}/`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}
