/**
 * The built site as a whole: every version at its path, no broken internal link, exactly one
 * anchor per message and feature bit in every version, linked mentions, diff pages, history,
 * and a search index that finds messages.
 */
import { loadRepository, type SpecModel } from '@vhost-user/generator';
import MiniSearch from 'minisearch';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { checkLinks, idCounts } from '../src/check/links.js';
import { rankExactFirst } from '../src/search/ranking.js';
import type { BuildResult } from '../src/build.js';
import { linkTargets, viewOf } from '../src/spec-view.js';
import { buildIntoTemp, REPO_ROOT } from './build-output.js';

let site: string;
let result: BuildResult;
let remove: () => void;
const { repo } = loadRepository(REPO_ROOT);
const versions: [string, SpecModel][] = repo
  ? [...repo.releases.map((r): [string, SpecModel] => [r.meta.version, r]), ['latest', repo.draft]]
  : [];

beforeAll(async () => {
  ({ dir: site, result, remove } = await buildIntoTemp());
}, 60_000);
afterAll(() => remove?.());

const read = (path: string): string => readFileSync(join(site, path), 'utf8');

describe('the built site', () => {
  it('loads the repository with every release', () => {
    expect(versions.map(([slug]) => slug)).toEqual(['1.0', '1.1', '1.2', 'latest']);
    expect(result.versions).toEqual(['1.0', '1.1', '1.2', 'latest']);
  });

  it('reports no rendering warnings', () => {
    expect(result.warnings).toEqual([]);
  });

  it('puts each version at its own path, with a page per chapter', () => {
    for (const [slug, model] of versions) {
      expect(existsSync(join(site, slug, 'index.html')), slug).toBe(true);
      for (const chapter of model.meta.prose)
        expect(existsSync(join(site, slug, chapter.replace(/\.md$/, '.html'))), `${slug}/${chapter}`).toBe(true);
      expect(existsSync(join(site, slug, 'search-index.json'))).toBe(true);
    }
    expect(existsSync(join(site, 'index.html'))).toBe(true);
    expect(existsSync(join(site, 'assets', 'search.js'))).toBe(true);
  });

  it('has no broken internal link, asset or fragment', () => {
    const report = checkLinks(site);
    expect(report.problems).toEqual([]);
    expect(report.pages).toBeGreaterThan(80);
    expect(report.links).toBeGreaterThan(5000);
  });

  it('has exactly one anchor per message and per feature bit in every version', () => {
    for (const [slug, model] of versions) {
      const names = [...model.messages, ...model.protocolFeatures, ...model.virtioFeatures].map((i) => i.name);
      // The single page repeats every chapter.
      const counts = idCounts(site, slug, names, ['all.html']);
      const wrong = [...counts].filter(([, n]) => n !== 1);
      expect(wrong, slug).toEqual([]);
      expect(counts.size).toBe(names.length);
    }
  });

  it('links every inline-code mention of a message or feature (aliases too) to its section', () => {
    for (const [slug, model] of versions) {
      const targets = linkTargets(viewOf(model));
      for (const chapter of model.meta.prose) {
        const html = read(`${slug}/${chapter.replace(/\.md$/, '.html')}`);
        for (const match of html.matchAll(/<code>([A-Z][A-Z0-9_]+)<\/code>/g)) {
          if (!targets.has(match[1] as string)) continue;
          const before = html.slice(Math.max(0, (match.index ?? 0) - 200), match.index);
          expect(before, `${slug}/${chapter}: ${match[1]}`).toMatch(/<a href="[^"]*#[^"]*" class="mention"[^>]*>$/);
        }
      }
    }
    // A former name links to the current name's section.
    expect(read('latest/backend-channel.html')).toMatch(
      /<a href="frontend-messages.html#VHOST_USER_SET_BACKEND_REQ_FD" class="mention" title="former name of VHOST_USER_SET_BACKEND_REQ_FD">/,
    );
  });

  it('numbers sections and marks the requirement keywords', () => {
    const html = read('latest/frontend-messages.html');
    expect(html).toMatch(
      /<h2 id="VHOST_USER_SET_VRING_ADDR"><span class="secno">18\.\d+<\/span> VHOST_USER_SET_VRING_ADDR/,
    );
    expect(html).toContain('<em class="kw kw-must">MUST</em>');
    expect(read('latest/index.html')).toContain('<a href="frontend-messages.html#VHOST_USER_SET_VRING_ADDR">');
  });

  it('shows the message reference block with payload links and history', () => {
    const html = read('latest/frontend-messages.html');
    const block = html.slice(html.indexOf('data-name="VHOST_USER_GET_SHMEM_CONFIG"'));
    expect(block).toMatch(/<dt>Id<\/dt><dd><span class="num">44<\/span>/);
    expect(block).toMatch(/<dt>Since<\/dt><dd>1\.2<\/dd>/);
    expect(block).toMatch(/<span class="hist-version">1\.2<\/span> <span class="hist-kind hist-added">added<\/span>/);
    expect(html).toMatch(/<dt>Request payload<\/dt><dd><a href="message-format.html#payload-VringAddr">/);
  });

  it('has a diff page between consecutive versions listing the 1.2 SHMEM additions', () => {
    expect(existsSync(join(site, 'diff/1.0-1.1.html'))).toBe(true);
    expect(existsSync(join(site, 'diff/1.2-latest.html'))).toBe(true);
    const html = read('diff/1.1-1.2.html');
    for (const name of [
      'VHOST_USER_PROTOCOL_F_SHMEM',
      'VHOST_USER_GET_SHMEM_CONFIG',
      'VHOST_USER_BACKEND_SHMEM_MAP',
      'VHOST_USER_BACKEND_SHMEM_UNMAP',
    ]) {
      expect(html).toMatch(new RegExp(`<tr class="change-added" data-entity="[a-z-]+" data-name="${name}">`));
    }
    expect(html).toContain('id="text-changes"');
    expect(html).toMatch(/New chapter: <a href="..\/1.2\/shared-memory.html">/);
  });

  it('builds a search index that finds a message by part of its name', () => {
    const data = JSON.parse(read('latest/search-index.json')) as {
      fields: string[];
      storeFields: string[];
      index: unknown;
    };
    const index = MiniSearch.loadJS(data.index as never, { fields: data.fields, storeFields: data.storeFields });
    const [first] = index.search('SET_VRING_ADDR', { prefix: true, combineWith: 'AND', boost: { name: 4 } });
    expect(first?.url).toBe('latest/frontend-messages.html#VHOST_USER_SET_VRING_ADDR');
    const kinds = new Set(index.search('ring', { prefix: true }).map((r) => r.kind as string));
    for (const kind of ['message', 'payload', 'section']) expect(kinds).toContain(kind);
  });
});

describe('the search index with the page ranking', () => {
  const first = (slug: string, query: string): string | undefined => {
    const data = JSON.parse(read(`${slug}/search-index.json`)) as {
      fields: string[];
      storeFields: string[];
      index: unknown;
    };
    const index = MiniSearch.loadJS(data.index as never, { fields: data.fields, storeFields: data.storeFields });
    return rankExactFirst(index as never, query)[0]?.name as string | undefined;
  };

  it('finds a message by id in decimal or hex, and a bit by number or mask', () => {
    expect(first('latest', '44')).toBe('VHOST_USER_GET_SHMEM_CONFIG');
    expect(first('latest', '0x2c')).toBe('VHOST_USER_GET_SHMEM_CONFIG');
    expect(first('latest', '0x00400000')).toBe('VHOST_USER_PROTOCOL_F_SHMEM');
    expect(first('latest', '0x0000000040000000')).toBe('VHOST_USER_F_PROTOCOL_FEATURES');
  });

  it('finds former names and the terms QEMU used before renaming the two sides', () => {
    expect(first('latest', 'SET_SLAVE_REQ_FD')).toBe('VHOST_USER_SET_BACKEND_REQ_FD');
    expect(first('latest', 'VHOST_USER_SLAVE_IOTLB_MSG')).toBe('VHOST_USER_BACKEND_IOTLB_MSG');
    expect(first('latest', 'master')).toMatch(/^VHOST_USER_/);
  });

  it('ranks exact names first, then the names the text discusses most', () => {
    expect(first('latest', 'kick')).toBe('VHOST_USER_SET_VRING_KICK');
    expect(first('latest', 'VRING_KICK')).toBe('VHOST_USER_VRING_KICK');
    expect(first('latest', 'mq')).toBe('VHOST_USER_PROTOCOL_F_MQ');
    expect(first('1.0', 'SET_VRING_ADDR')).toBe('VHOST_USER_SET_VRING_ADDR');
  });
});

describe('the extra views of each version', () => {
  it('has a single page whose links stay on the page, and an index by number', () => {
    for (const [slug] of versions) {
      const all = read(`${slug}/all.html`);
      expect(all).toContain('id="VHOST_USER_SET_VRING_ADDR"');
      expect(all).not.toMatch(/href="frontend-messages\.html#/);
      const numbers = read(`${slug}/numbers.html`);
      expect(numbers).toMatch(
        /<td data-label="Hex"><code>0x09<\/code><\/td><td data-label="Name"><a href="frontend-messages.html#VHOST_USER_SET_VRING_ADDR">/,
      );
    }
  });

  it('anchors former names on the current section', () => {
    expect(read('latest/frontend-messages.html')).toMatch(
      /<h2 id="VHOST_USER_SET_BACKEND_REQ_FD"><span class="secno">[\d.]+<\/span> <span id="VHOST_USER_SET_SLAVE_REQ_FD" class="former-name-anchor"><\/span>/,
    );
    const anchors = JSON.parse(read('anchors.json')) as { versions: string[]; ids: Record<string, number[]> };
    expect(anchors.versions).toEqual(['1.0', '1.1', '1.2', 'latest']);
    expect(anchors.ids.VHOST_USER_GET_SHMEM_CONFIG?.map((i) => i >= 0)).toEqual([false, false, true, true]);
  });

  it('loads no search code until the search box is used, and ships it minified', () => {
    const page = read('latest/rings.html');
    expect(page).not.toContain('minisearch');
    expect(page).toContain('assets/site.js');
    expect(read('assets/site.js').length).toBeLessThan(4000);
    const search = read('assets/search.js');
    expect(search.split('\n').length).toBeLessThan(10);
    expect(search.length).toBeLessThan(40_000);
  });

  it('exports every version as reStructuredText that docutils builds without a warning', () => {
    const docutils = spawnSync('python3', ['-c', 'import docutils'], { encoding: 'utf8' });
    if (docutils.status !== 0 && process.env.CI !== 'true') {
      console.warn('reST check skipped: install python3-docutils (apt-get install -y python3-docutils)');
      return;
    }
    expect(docutils.status, 'python3-docutils is required: apt-get install -y python3-docutils').toBe(0);
    for (const [slug] of versions) {
      const rst = join(site, slug, 'vhost-user.rst');
      const run = spawnSync(
        'python3',
        [
          '-m',
          'docutils',
          '--halt=warning',
          '--report=warning',
          '--no-generator',
          rst,
          join(site, `${slug}.check.html`),
        ],
        { encoding: 'utf8' },
      );
      expect(run.stderr, slug).toBe('');
      expect(run.status, slug).toBe(0);
      const text = read(`${slug}/vhost-user.rst`);
      expect(text).toContain('.. _VHOST_USER_SET_VRING_ADDR:');
      expect(text).toMatch(/`VringAddr <payload-VringAddr_>`__/);
    }
  }, 120_000);
});

describe('the link checker', () => {
  it('finds broken links, missing fragments and repeated ids', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vhost-user-links-'));
    try {
      mkdirSync(join(dir, 'v'));
      writeFileSync(
        join(dir, 'index.html'),
        '<a href="v/a.html#here">ok</a><a href="v/a.html#gone">x</a><a href="v/missing.html">y</a><a href="https://example.org/">ext</a>',
      );
      writeFileSync(
        join(dir, 'v', 'a.html'),
        '<h2 id="here">A</h2><p id="here">again</p><a href="../index.html">up</a>',
      );
      const report = checkLinks(dir);
      expect(report.problems.sort()).toEqual([
        'index.html: link v/a.html#gone: v/a.html has no id "gone"',
        'index.html: link v/missing.html points at v/missing.html, which does not exist',
        'v/a.html: id "here" appears more than once',
      ]);
      expect(report.links).toBe(4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
