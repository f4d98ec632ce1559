/**
 * A small static file server for the built site (for `npm start` and the browser tests). It
 * answers GET and HEAD only, serves files inside the site folder only, and survives every
 * per-request failure (a file that cannot be opened, e.g. on EMFILE, fails that request alone).
 */
import { createReadStream, statSync, type Stats } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
};

/** Sent with every answer: browsers must not guess a type other than the one given. */
const COMMON_HEADERS = { 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache' };

export interface RunningServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export interface ServeOptions {
  /** Failures of the server itself or of one request (default: printed to stderr). */
  onError?: (error: Error) => void;
}

/** What a request path names inside the site folder. */
export type Lookup =
  | { kind: 'file'; file: string; size: number }
  /** A folder named without its trailing slash: relative links in its index.html need one. */
  | { kind: 'redirect'; location: string }
  | { kind: 'missing' };

/** Resolves a request URL (path and query) against `dir`; nothing outside `dir` is ever named. */
export function lookup(dir: string, url: string): Lookup {
  const [rawPath = '/', ...rest] = url.split('?');
  const query = rest.length > 0 ? `?${rest.join('?')}` : '';
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return { kind: 'missing' };
  }
  if (path.split('/').includes('..')) return { kind: 'missing' }; // no climbing, even back inside
  const base = resolve(dir);
  const target = resolve(base, `.${sep}${normalize(path)}`);
  if (target !== base && !target.startsWith(base + sep)) return { kind: 'missing' };
  const stats = statOrUndefined(target);
  if (stats?.isDirectory()) {
    // One leading slash only: "//host" in a Location header would leave this site.
    if (!rawPath.endsWith('/')) return { kind: 'redirect', location: `/${rawPath.replace(/^\/+/, '')}/${query}` };
    const index = statOrUndefined(join(target, 'index.html'));
    return index?.isFile() ? { kind: 'file', file: join(target, 'index.html'), size: index.size } : { kind: 'missing' };
  }
  return stats?.isFile() ? { kind: 'file', file: target, size: stats.size } : { kind: 'missing' };
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function plain(response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { ...COMMON_HEADERS, 'content-type': 'text/plain; charset=utf-8', ...headers });
  response.end(text);
}

/** Sends `file` with `status`; a file that cannot be read fails this request only. */
function sendFile(
  request: IncomingMessage,
  response: ServerResponse,
  status: number,
  found: { file: string; size: number },
  onError: (error: Error) => void,
): void {
  const headers = {
    ...COMMON_HEADERS,
    'content-type': TYPES[extname(found.file)] ?? 'application/octet-stream',
  };
  if (request.method === 'HEAD') {
    response.writeHead(status, { ...headers, 'content-length': String(found.size) });
    response.end();
    return;
  }
  const stream = createReadStream(found.file);
  // Headers wait for the open: a file that cannot be opened still gets a proper status.
  stream.once('open', () => {
    response.writeHead(status, headers);
    pipeline(stream, response, () => {
      // a client that went away, or a read error after the headers: both streams are destroyed
    });
  });
  stream.once('error', (error: NodeJS.ErrnoException) => {
    if (response.headersSent) return; // pipeline ends the response
    onError(error);
    // Out of fds is temporary: ask the client to come back instead of reporting a broken site.
    if (error.code === 'EMFILE' || error.code === 'ENFILE')
      plain(response, 503, 'the server is busy; try again', { 'retry-after': '1' });
    else plain(response, 500, `cannot read ${found.file.split(sep).pop() ?? 'the file'}`);
  });
}

function handle(dir: string, request: IncomingMessage, response: ServerResponse, onError: (e: Error) => void): void {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    plain(response, 405, 'only GET and HEAD are answered', { allow: 'GET, HEAD' });
    return;
  }
  const found = lookup(dir, request.url ?? '/');
  if (found.kind === 'redirect') {
    plain(response, 301, `moved to ${found.location}`, { location: found.location });
    return;
  }
  if (found.kind === 'file') {
    sendFile(request, response, 200, found, onError);
    return;
  }
  const notFound = lookup(dir, '/404.html');
  if (notFound.kind === 'file') sendFile(request, response, 404, notFound, onError);
  else plain(response, 404, 'not found');
}

export function serveStatic(
  dir: string,
  port = 0,
  host = '127.0.0.1',
  options: ServeOptions = {},
): Promise<RunningServer> {
  const onError = options.onError ?? ((error: Error) => console.error(`site: ${error.message}`));
  const server = createServer((request, response) => {
    try {
      handle(dir, request, response, onError);
    } catch (error) {
      onError(error as Error);
      if (!response.headersSent) plain(response, 500, 'internal error');
      else response.destroy();
    }
  });
  return new Promise((resolveServer, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      // From now on an error (e.g. accept failing on EMFILE) is reported, never thrown.
      server.on('error', onError);
      const { port: actual } = server.address() as AddressInfo;
      resolveServer({
        server,
        url: `http://${host === '127.0.0.1' ? 'localhost' : host}:${actual}/`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}
