/** The Implementations page: the conformance matrix when the build finds one, else how to run the suite. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHtml } from 'hast-util-to-html';
import { h } from 'hastscript';
import { buildSite } from '../src/build.js';
import { checkLinks } from '../src/check/links.js';
import { RUN_COMMAND, implementationsMain, loadMatrix, type Matrix } from '../src/pages/implementations.js';
import { REPO_ROOT } from './build-output.js';
import { loadRepository } from '@vhost-user/generator';
import { viewOf } from '../src/spec-view.js';

/** A small matrix: one back-end failing a MUST case of the rings section, one front-end that holds. */
const MATRIX_FIXTURE = fileURLToPath(new URL('./matrix-fixture.json', import.meta.url));
const MATRIX = JSON.parse(readFileSync(MATRIX_FIXTURE, 'utf8')) as Matrix;

const { repo } = loadRepository(REPO_ROOT);
const pinned = {
  slug: 'latest',
  label: 'latest (draft)',
  spec: viewOf(repo!.draft),
  pageOf: () => undefined,
};
const render = (m: Matrix | undefined) => toHtml(h('main', implementationsMain(m, pinned)));

describe('implementations page', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vu-site-matrix-'));
  let html: string;
  let site: string;
  beforeAll(async () => {
    writeFileSync(join(dir, 'matrix.json'), JSON.stringify(MATRIX));
    site = join(dir, 'site');
    await buildSite({ root: REPO_ROOT, outDir: site, matrixPath: join(dir, 'matrix.json') });
    html = readFileSync(join(site, 'implementations.html'), 'utf8');
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('renders one compatibility table per mode: MUST verdict first, a row per section, a column per implementation', () => {
    expect(html).toContain('<h2 id="backends">Back-ends</h2>');
    expect(html).toContain('<h2 id="frontends">Front-ends</h2>');
    expect(html).toContain('<th scope="col">qemu-storage-daemon (vhost-user-blk) (blk)</th>');
    expect(html).toContain('qemu-system-common 1:7.2');
    const backends = html.slice(html.indexOf('id="backends"'), html.indexOf('id="frontends"'));
    const firstRow = backends.slice(
      backends.indexOf('<tbody>'),
      backends.indexOf('</tr>', backends.indexOf('<tbody>')),
    );
    expect(firstRow).toMatch(
      /<th scope="row"[^>]*>All MUST cases<\/th><td class="cell-fail"[^>]*><a href="#backend-1">/,
    );
    // The failing case is visible in the cell (not a tooltip) and listed, with its spec chapter, below.
    expect(html).toMatch(
      /<td class="cell-fail" data-label="[^"]+"><a href="#backend-1-rings">.*fail<\/a> <small>4\/5<\/small>.*stop-on-get-vring-base/,
    );
    expect(html).not.toContain('title="MUST');
    expect(html).toMatch(
      /<li id="backend-1-rings">.*<code>rings\/stop-on-get-vring-base<\/code> — see <a href="latest\/rings.html">/,
    );
    expect(html).toMatch(/<a href="#frontend-1"><span aria-hidden="true">✔ <\/span>hold<\/a>/);
    // Pinned to a spec version, with a legend, and the recorded divergences link upstream.
    expect(html).toMatch(/Checked against <a href="latest\/index.html">spec latest \(draft\)<\/a>/);
    expect(html).toContain('id="legend"');
    expect(html).toMatch(/Divergences the spec records for this implementation \(\d+\)/);
    expect(html).toMatch(/<a href="https:\/\/[^"]+" class="external" rel="external">/);
    expect(html).toContain('2026-11-29T00:00:00.000Z');
  });

  it('is linked from the navigation of every page, and its links check out', () => {
    expect(readFileSync(join(site, 'index.html'), 'utf8')).toContain('href="implementations.html">Implementations</a>');
    expect(readFileSync(join(site, 'latest/index.html'), 'utf8')).toContain(
      'href="../implementations.html">Implementations</a>',
    );
    const report = checkLinks(site);
    expect(report.problems).toEqual([]);
    expect(report.links).toBeGreaterThan(0);
  });

  it('without a matrix says the suite has not been run and gives the command', () => {
    const text = render(loadMatrix(join(dir, 'absent.json')));
    expect(text).toContain('has not been run');
    expect(text).toContain(RUN_COMMAND);
    expect(text).not.toContain('<table');
  });

  it('refuses a malformed matrix file', () => {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ format: 1, rows: [{ implementation: 1 }] }));
    expect(() => loadMatrix(join(dir, 'bad.json'))).toThrow(/not a conformance matrix/);
  });
});
