/** The static server maps URLs to files inside the site folder only. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileFor, serveStatic } from '../src/serve/static-server.js';

const dir = mkdtempSync(join(tmpdir(), 'vhost-user-serve-'));
mkdirSync(join(dir, 'site', '1.2'), { recursive: true });
writeFileSync(join(dir, 'site', 'index.html'), '<h1>home</h1>');
writeFileSync(join(dir, 'site', '1.2', 'index.html'), '<h1>1.2</h1>');
writeFileSync(join(dir, 'site', '404.html'), '<h1>missing</h1>');
writeFileSync(join(dir, 'secret.txt'), 'outside');
const site = join(dir, 'site');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fileFor', () => {
  it('serves index.html for folders', () => {
    expect(fileFor(site, '/')).toBe(join(site, 'index.html'));
    expect(fileFor(site, '/1.2/')).toBe(join(site, '1.2', 'index.html'));
    expect(fileFor(site, '/1.2?x=1')).toBe(join(site, '1.2', 'index.html'));
  });

  it('never leaves the site folder', () => {
    expect(fileFor(site, '/../secret.txt')).toBeUndefined();
    expect(fileFor(site, '/%2e%2e/secret.txt')).toBeUndefined();
    expect(fileFor(site, '/%E0%A4%A')).toBeUndefined();
  });
});

describe('serveStatic', () => {
  it('answers with the file, or the site 404 page with status 404', async () => {
    const server = await serveStatic(site);
    try {
      const home = await fetch(new URL('1.2/', server.url));
      expect(home.status).toBe(200);
      expect(home.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await home.text()).toBe('<h1>1.2</h1>');
      const missing = await fetch(new URL('nope.html', server.url));
      expect(missing.status).toBe(404);
      expect(await missing.text()).toBe('<h1>missing</h1>');
    } finally {
      await server.close();
    }
  });
});
