/** The Implementations page: the conformance matrix when the build finds one, else how to run the suite. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHtml } from 'hast-util-to-html';
import { h } from 'hastscript';
import { buildSite } from '../src/build.js';
import { checkLinks } from '../src/check/links.js';
import { RUN_COMMAND, implementationsMain, loadMatrix, type Matrix } from '../src/pages/implementations.js';
import { REPO_ROOT } from './build-output.js';

const section = (cell: string, pass: number, fail = 0, failing: string[] = []) => ({
  cell,
  pass,
  fail,
  knownDivergence: 0,
  skip: 0,
  failing,
});

const MATRIX = {
  format: 1,
  generated: '2026-11-29T00:00:00.000Z',
  sections: ['header', 'rings'],
  rows: [
    {
      implementation: 'qemu-storage-daemon (vhost-user-blk)',
      version: 'qemu-system-common 1:7.2',
      mode: 'backend',
      device: 'blk',
      sections: { header: section('pass', 3), rings: section('fail', 4, 1, ['MUST rings/stop-on-get-vring-base']) },
      mustHold: false,
    },
    {
      implementation: 'QEMU vhost-user-blk-pci',
      version: 'qemu-system-x86 1:7.2',
      mode: 'frontend',
      device: 'blk',
      sections: { order: section('pass', 2) },
      mustHold: true,
    },
  ],
};

const render = (m: Matrix | undefined) => toHtml(h('main', implementationsMain(m)));

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

  it('renders one table per mode with a cell per section, versions and the MUST verdict', () => {
    expect(html).toContain('<h2 id="backends">Back-ends</h2>');
    expect(html).toContain('<h2 id="frontends">Front-ends</h2>');
    expect(html).toContain('qemu-storage-daemon (vhost-user-blk) (blk)');
    expect(html).toContain('qemu-system-common 1:7.2');
    expect(html).toMatch(
      /<td class="cell-fail" title="MUST rings\/stop-on-get-vring-base">✘ fail <small>4\/5<\/small><\/td>/,
    );
    expect(html).toContain('<td class="cell-pass">✔ hold</td>');
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
