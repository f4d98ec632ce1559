/** The static server maps URLs to files inside the site folder only, and survives bad requests. */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { lookup, serveStatic, type RunningServer } from '../src/serve/static-server.js';

const dir = mkdtempSync(join(tmpdir(), 'vhost-user-serve-'));
mkdirSync(join(dir, 'site', '1.2'), { recursive: true });
writeFileSync(join(dir, 'site', 'index.html'), '<h1>home</h1>');
writeFileSync(join(dir, 'site', '1.2', 'index.html'), '<h1>1.2</h1>');
writeFileSync(join(dir, 'site', '404.html'), '<h1>missing</h1>');
writeFileSync(join(dir, 'site', 'big.bin'), new Uint8Array(1 << 20));
writeFileSync(join(dir, 'secret.txt'), 'outside');
const site = join(dir, 'site');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lookup', () => {
  it('serves index.html for folders named with their slash, and redirects them otherwise', () => {
    expect(lookup(site, '/')).toMatchObject({ kind: 'file', file: join(site, 'index.html') });
    expect(lookup(site, '/1.2/')).toMatchObject({ kind: 'file', file: join(site, '1.2', 'index.html') });
    expect(lookup(site, '/1.2')).toEqual({ kind: 'redirect', location: '/1.2/' });
    expect(lookup(site, '/1.2?x=1')).toEqual({ kind: 'redirect', location: '/1.2/?x=1' });
    // never to another host ("//1.2/" would be one)
    expect(lookup(site, '//1.2')).toEqual({ kind: 'redirect', location: '/1.2/' });
  });

  it('never leaves the site folder', () => {
    expect(lookup(site, '/../secret.txt')).toEqual({ kind: 'missing' });
    expect(lookup(site, '/%2e%2e/secret.txt')).toEqual({ kind: 'missing' });
    expect(lookup(site, '/%2e%2e')).toEqual({ kind: 'missing' });
    expect(lookup(site, '/%E0%A4%A')).toEqual({ kind: 'missing' });
  });
});

/** One request without keep-alive: status, headers and body length. */
function send(
  url: string,
  method = 'GET',
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((done, fail) => {
    const req = httpRequest(url, { method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end();
  });
}

describe('serveStatic', () => {
  let server: RunningServer;
  const errors: Error[] = [];
  const start = async () => (server = await serveStatic(site, 0, '127.0.0.1', { onError: (e) => errors.push(e) }));
  afterAll(() => server?.close());

  it('answers with the file, or the site 404 page with status 404', async () => {
    await start();
    const home = await send(`${server.url}1.2/`);
    expect(home.status).toBe(200);
    expect(home.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(home.body).toBe('<h1>1.2</h1>');
    const missing = await send(`${server.url}nope.html`);
    expect(missing.status).toBe(404);
    expect(missing.body).toBe('<h1>missing</h1>');
  });

  it('answers only GET and HEAD; HEAD gets the headers without a body', async () => {
    for (const method of ['DELETE', 'POST', 'PUT', 'OPTIONS']) {
      const answer = await send(`${server.url}index.html`, method);
      expect(answer.status, method).toBe(405);
      expect(answer.headers.allow).toBe('GET, HEAD');
    }
    const head = await send(`${server.url}index.html`, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String('<h1>home</h1>'.length));
    expect(head.body).toBe('');
  });

  it('redirects a folder named without its slash, so its relative links resolve', async () => {
    const answer = await send(`${server.url}1.2?tab=x`);
    expect(answer.status).toBe(301);
    expect(answer.headers.location).toBe('/1.2/?tab=x');
  });

  it('sends X-Content-Type-Options: nosniff with every answer', async () => {
    for (const [path, method] of [
      ['index.html', 'GET'],
      ['nope', 'GET'],
      ['1.2', 'GET'],
      ['index.html', 'DELETE'],
    ] as const) {
      expect((await send(`${server.url}${path}`, method)).headers['x-content-type-options'], path).toBe('nosniff');
    }
    expect(errors).toEqual([]);
  });

  it('fails single requests, not the server, when it runs out of fds (EMFILE)', { timeout: 60_000 }, async () => {
    // A server process with a small fd limit, flooded with concurrent requests for a big file.
    const script = join(dir, 'server.mts');
    const module = fileURLToPath(new URL('../src/serve/static-server.ts', import.meta.url));
    writeFileSync(
      script,
      `import { serveStatic } from ${JSON.stringify(module)};\n` +
        `const s = await serveStatic(${JSON.stringify(site)}, 0, '127.0.0.1', { onError: () => {} });\n` +
        `process.stdout.write(s.url + '\\n');\n`,
    );
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const child = spawn('bash', ['-c', `ulimit -n 64 && exec "${process.execPath}" --import tsx "${script}"`], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    try {
      const url = await new Promise<string>((done, fail) => {
        child.stdout.once('data', (d: Buffer) => done(d.toString().trim()));
        void exited.then(() => fail(new Error(`the server exited: ${stderr}`)));
      });
      const statuses = await Promise.all(
        Array.from({ length: 300 }, () =>
          send(`${url}big.bin`).then(
            (r) => r.status,
            (e: NodeJS.ErrnoException) => e.code ?? 'error',
          ),
        ),
      );
      const busy = statuses.filter((s) => s === 503).length;
      expect(busy, `statuses: ${JSON.stringify(statuses)}`).toBeGreaterThan(0); // the limit was reached
      expect(child.exitCode, stderr).toBeNull();
      const after = await send(`${url}index.html`);
      expect(after.status).toBe(200);
      expect(after.body).toBe('<h1>home</h1>');
    } finally {
      child.kill();
      await exited;
    }
  });
});
