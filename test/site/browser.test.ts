/**
 * The site in a real browser: Debian's Chromium driven by playwright-core, at a phone width
 * (390 px) and a desktop width (1366 px), light and dark.
 *
 * - every page of every version: nothing is wider than the viewport;
 * - one page of each type: axe-core finds no serious or critical violation;
 * - every heading of the message chapter: following its anchor puts it below the header;
 * - search, version switching (with and without JavaScript), former-name anchors, the diff page;
 * - screenshots of each page type at each width and scheme in test/site/artifacts/.
 *
 * One browser and one page are shared by the whole file (2-core CI). Without Chromium these
 * tests fail under CI=true and are skipped elsewhere, with a message.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildIntoTemp } from '../../packages/site/test/build-output.js';
import { serveStatic, type RunningServer } from '../../packages/site/src/serve/static-server.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const HOW_TO_INSTALL = `Chromium is not at ${CHROMIUM}; install it with: apt-get update && apt-get install -y chromium (or set CHROMIUM_PATH)`;
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const WIDTHS = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'desktop', width: 1366, height: 900 },
] as const;
const SCHEMES = ['light', 'dark'] as const;
/**
 * axe runs once per page type and width (it is the slow part), each width in one scheme, so
 * both schemes are checked: the phone in dark, the desktop in light. Screenshots cover all four.
 */
const AXE_RUNS = [
  { view: WIDTHS[0], scheme: 'dark' },
  { view: WIDTHS[1], scheme: 'light' },
] as const;

/** One page of each type: axe and screenshots run on these. */
const PAGE_TYPES: Record<string, string> = {
  home: 'index.html',
  contents: 'latest/index.html',
  messages: 'latest/frontend-messages.html',
  rings: 'latest/rings.html',
  bits: 'latest/protocol-features.html',
  prose: 'latest/introduction.html',
  'old-release': '1.0/session.html',
  'single-page': 'latest/all.html',
  'number-index': 'latest/numbers.html',
  diff: 'diff/1.1-1.2.html',
  changes: 'diff/index.html',
  implementations: 'implementations.html',
  'not-found': '1.1/no/such/page.html',
};

const haveChromium = existsSync(CHROMIUM);
const inCi = process.env.CI === 'true';
if (!haveChromium && !inCi) console.warn(`browser tests skipped: ${HOW_TO_INSTALL}`);

if (!haveChromium && inCi) {
  describe('browser prerequisites', () => {
    it('has Chromium installed (required when CI=true)', () => {
      throw new Error(HOW_TO_INSTALL);
    });
  });
}

function htmlPages(dir: string): string[] {
  const out: string[] = [];
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.html')) out.push(relative(dir, path));
    }
  };
  walk(dir);
  return out.sort();
}

describe.runIf(haveChromium)('the site in Chromium', () => {
  let browser: Browser;
  let server: RunningServer;
  let remove: () => void;
  let pages: string[];
  /** The page every test drives, and the script errors and failed requests seen on it. */
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    // The Implementations page is checked with a small conformance matrix (the suite's output is not committed).
    const built = await buildIntoTemp({
      matrixPath: fileURLToPath(new URL('../../packages/site/test/matrix-fixture.json', import.meta.url)),
    });
    remove = built.remove;
    pages = htmlPages(built.dir);
    server = await serveStatic(built.dir);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    page = await browser.newPage();
    page.on('pageerror', (error) => problems.push(`script error on ${page.url()}: ${error.message}`));
    page.on('response', (response) => {
      // The not-found page is meant to answer 404, and it probes for the site root with HEAD requests.
      if (response.status() >= 400 && !response.url().includes('/no/such/') && response.request().method() !== 'HEAD')
        problems.push(`HTTP ${response.status()} for ${response.url()}`);
    });
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 120_000);
  beforeEach(() => {
    problems.length = 0;
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    remove?.();
  });

  async function open(
    path: string,
    view: { width: number; height: number } = WIDTHS[1],
    colorScheme: 'light' | 'dark' = 'light',
  ): Promise<void> {
    await page.setViewportSize({ width: view.width, height: view.height });
    await page.emulateMedia({ colorScheme });
    await page.goto(new URL(path, server.url).href);
  }

  const inView = (id: string): Promise<boolean> =>
    page.evaluate((anchor) => {
      const element = document.getElementById(anchor);
      if (!element) return false;
      const box = element.getBoundingClientRect();
      const header = document.querySelector('.site-header')?.getBoundingClientRect();
      const below = Math.max(0, header?.bottom ?? 0);
      return box.top >= below - 1 && box.top < window.innerHeight && box.bottom > 0;
    }, id);

  /** The elements that stick out past the right edge of the viewport, as short selectors. */
  const overflowing = (): Promise<string[]> =>
    page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      if (document.documentElement.scrollWidth <= width) return [];
      const out: string[] = [];
      for (const element of Array.from(document.querySelectorAll('body *'))) {
        const box = element.getBoundingClientRect();
        if (box.right <= width + 0.5 || box.width === 0) continue;
        // Report the outermost culprit only.
        if (element.parentElement && element.parentElement.getBoundingClientRect().right > width + 0.5) continue;
        const cls = element.getAttribute('class');
        out.push(
          `${element.tagName.toLowerCase()}${cls ? `.${cls.split(' ').join('.')}` : ''} (${Math.round(box.right)} px)`,
        );
        if (out.length >= 3) break;
      }
      return out.length ? out : [`document ${document.documentElement.scrollWidth} px`];
    });

  for (const view of WIDTHS) {
    it(`fits every page of every version in ${view.width} px`, { timeout: 240_000 }, async () => {
      const wide: string[] = [];
      for (const path of pages) {
        await open(path, view);
        const culprits = await overflowing();
        if (culprits.length) wide.push(`${path}: ${culprits.join(', ')}`);
      }
      expect(pages.length).toBeGreaterThan(90);
      expect(wide).toEqual([]);
      expect(problems).toEqual([]);
    });
  }

  for (const { view, scheme } of AXE_RUNS) {
    it(
      `finds no serious accessibility violation on any page type at ${view.width} px, ${scheme}`,
      {
        timeout: 240_000,
      },
      async () => {
        const found: string[] = [];
        for (const [type, path] of Object.entries(PAGE_TYPES)) {
          await open(path, view, scheme);
          await page.addScriptTag({ content: AXE_SOURCE });
          // The single page is the chapters again (1 MB): their colours are checked on the chapter
          // page types, so contrast, the slowest rule, is left out there.
          const options =
            type === 'single-page'
              ? { resultTypes: ['violations'], rules: { 'color-contrast': { enabled: false } } }
              : { resultTypes: ['violations'] };
          const violations = await page.evaluate(async (options) => {
            const axe = (window as unknown as { axe: { run: (context: Document, options: object) => Promise<any> } })
              .axe;
            const result = await axe.run(document, options);
            return (result.violations as { id: string; impact: string; nodes: { target: string[] }[] }[])
              .filter((v) => v.impact === 'serious' || v.impact === 'critical')
              .map((v) => `${v.id} (${v.impact}) on ${v.nodes.length} node(s), e.g. ${v.nodes[0]?.target.join(' ')}`);
          }, options);
          for (const violation of violations) found.push(`${path}: ${violation}`);
        }
        expect(found).toEqual([]);
        expect(problems).toEqual([]);
      },
    );
  }

  it('keeps a screenshot of every page type at each width in each scheme', { timeout: 240_000 }, async () => {
    for (const view of WIDTHS) {
      for (const scheme of SCHEMES) {
        for (const [type, path] of Object.entries(PAGE_TYPES)) {
          await open(path, view, scheme);
          const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
          expect(background === 'rgb(255, 255, 255)', `${path} ${scheme}`).toBe(scheme === 'light');
          await page.screenshot({ path: `${ARTIFACTS}${type}-${view.name}-${scheme}.png` });
        }
      }
    }
    expect(readdirSync(ARTIFACTS).filter((f) => f.endsWith('.png')).length).toBeGreaterThanOrEqual(
      Object.keys(PAGE_TYPES).length * 4,
    );
  });

  for (const view of WIDTHS) {
    it(`puts every heading of a chapter below the header when its anchor is followed, at ${view.width} px`, async () => {
      for (const path of ['latest/frontend-messages.html', 'latest/rings.html', 'latest/virtio-features.html']) {
        await open(path, view);
        const hidden = await page.evaluate(() => {
          const header = document.querySelector('.site-header');
          const out: string[] = [];
          for (const heading of Array.from(document.querySelectorAll('main :is(h2, h3)[id]'))) {
            location.hash = `#${heading.id}`;
            const top = heading.getBoundingClientRect().top;
            const below = Math.max(0, header?.getBoundingClientRect().bottom ?? 0);
            // The last headings of a page cannot scroll to the top; they only have to be visible.
            const atEnd = window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2;
            if (top < below - 1 || (!atEnd && top > below + 40) || top > window.innerHeight) out.push(`#${heading.id}`);
          }
          return out;
        });
        expect(hidden, path).toEqual([]);
      }
      // Links from another page land the same way.
      await open('latest/rings.html#ring-states', view);
      expect(await inView('ring-states')).toBe(true);
      await open('latest/virtio-features.html#VHOST_USER_F_PROTOCOL_FEATURES', view);
      expect(await inView('VHOST_USER_F_PROTOCOL_FEATURES')).toBe(true);
    });
  }

  it('searches a message from the front page and lands on its anchor, in view', async () => {
    await open('index.html', WIDTHS[0]);
    await page.getByRole('link', { name: 'latest (draft)' }).first().click();
    await page.waitForURL(/\/latest\/index\.html$/);
    const search = page.getByRole('combobox', { name: 'Search the spec' });
    await search.fill('SET_VRING_ADDR');
    const result = page.getByRole('option', { name: /VHOST_USER_SET_VRING_ADDR/ }).first();
    await result.waitFor();
    expect(await page.locator('.search-count').textContent()).toMatch(/^\d+ results?$/);
    await result.click();
    await page.waitForURL(/\/latest\/frontend-messages\.html#VHOST_USER_SET_VRING_ADDR$/);
    expect(await inView('VHOST_USER_SET_VRING_ADDR')).toBe(true);
    // The search box is out of the way once a result is followed.
    expect(await page.locator('.search-results').isHidden()).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}search-landing-phone.png` });
  });

  it('finds by message id, bit mask and former name, exact names first, from the keyboard', async () => {
    await open('latest/index.html');
    const search = page.getByRole('combobox', { name: 'Search the spec' });
    const first = async (query: string): Promise<string> => {
      await search.fill(query);
      const option = page.getByRole('option').first();
      await option.waitFor();
      return (await option.textContent()) ?? '';
    };
    expect(await first('44')).toContain('VHOST_USER_GET_SHMEM_CONFIG');
    expect(await first('0x2c')).toContain('VHOST_USER_GET_SHMEM_CONFIG');
    expect(await first('kick')).toContain('VHOST_USER_SET_VRING_KICK');
    expect(await first('SET_SLAVE_REQ_FD')).toContain('VHOST_USER_SET_BACKEND_REQ_FD');
    expect(await first('master')).toMatch(/VHOST_USER_/);
    await search.fill('0x00008000');
    await page.getByRole('option').first().waitFor();
    await search.press('ArrowDown');
    const active = await search.getAttribute('aria-activedescendant');
    expect(active).toBeTruthy();
    await search.press('Enter');
    await page.waitForURL(/#VHOST_USER_PROTOCOL_F_/);
  });

  it('switches version, keeping the chapter and the section, or says the section is not there', async () => {
    await open('latest/frontend-messages.html#VHOST_USER_GET_VRING_BASE');
    await page.locator('.version-switch summary').click();
    await page.locator('.version-switch a', { hasText: /^1\.1$/ }).click();
    await page.waitForURL(/\/1\.1\/frontend-messages\.html#VHOST_USER_GET_VRING_BASE$/);
    expect(await page.locator('.version-switch summary strong').textContent()).toBe('1.1');
    expect(await inView('VHOST_USER_GET_VRING_BASE')).toBe(true);
    // SHMEM arrived in 1.2, so 1.1 has no section for it: a notice says so.
    await open('latest/frontend-messages.html#VHOST_USER_GET_SHMEM_CONFIG');
    await page.locator('.version-switch summary').click();
    await page.locator('.version-switch a', { hasText: /^1\.1$/ }).click();
    await page.waitForURL(/\/1\.1\/frontend-messages\.html#VHOST_USER_GET_SHMEM_CONFIG$/);
    await expect.poll(() => page.locator('.missing-notice').textContent()).toMatch(/added in 1\.2/);
  });

  it('resolves a name or a former name from any page of a version to its chapter', async () => {
    await open('latest/index.html#VHOST_USER_SET_VRING_KICK');
    await page.waitForURL(/\/latest\/frontend-messages\.html#VHOST_USER_SET_VRING_KICK$/);
    expect(await inView('VHOST_USER_SET_VRING_KICK')).toBe(true);
    await open('latest/frontend-messages.html#VHOST_USER_SET_SLAVE_REQ_FD', WIDTHS[0]);
    expect(await inView('VHOST_USER_SET_SLAVE_REQ_FD')).toBe(true);
  });

  it('tells a reader of an old release where the newest one is, at the same section', async () => {
    await open('1.0/frontend-messages.html#VHOST_USER_SET_VRING_ADDR');
    const link = page.locator('.old-release a');
    expect(await link.getAttribute('href')).toMatch(/1\.2\/frontend-messages\.html#VHOST_USER_SET_VRING_ADDR$/);
  });

  it('styles the not-found page at any depth', async () => {
    await open('1.1/no/such/page.html', WIDTHS[0]);
    const font = await page.evaluate(() => getComputedStyle(document.querySelector('.site-header') as Element).display);
    expect(font).toBe('flex');
    await page.getByRole('link', { name: 'front page' }).click();
    await page.waitForURL((url) => url.pathname === '/index.html' || url.pathname === '/');
  });

  it('works without JavaScript: no search box, version links still go to the same chapter', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    try {
      const bare = await context.newPage();
      await bare.goto(new URL('1.2/rings.html', server.url).href);
      expect(await bare.locator('form.search').isHidden()).toBe(true);
      await bare.locator('.version-switch summary').click();
      await bare.locator('.version-switch a', { hasText: /^1\.0$/ }).click();
      await bare.waitForURL(/\/1\.0\/rings\.html$/);
      expect(await bare.locator('#ring-states').count()).toBe(1);
    } finally {
      await context.close();
    }
  });

  it('lists the SHMEM additions on the 1.1 -> 1.2 diff page', async () => {
    await open('diff/index.html');
    await page.getByRole('link', { name: '1.1 → 1.2' }).click();
    await page.waitForURL(/\/diff\/1\.1-1\.2\.html$/);
    const added = await page
      .locator('tr.change-added')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-name')));
    for (const name of [
      'VHOST_USER_PROTOCOL_F_SHMEM',
      'VHOST_USER_GET_SHMEM_CONFIG',
      'VHOST_USER_BACKEND_SHMEM_MAP',
      'VHOST_USER_BACKEND_SHMEM_UNMAP',
    ]) {
      expect(added).toContain(name);
    }
    // The added bit links to its section in 1.2.
    await page.locator('tr.change-added[data-name="VHOST_USER_PROTOCOL_F_SHMEM"] a').first().click();
    await page.waitForURL(/\/1\.2\/protocol-features\.html#VHOST_USER_PROTOCOL_F_SHMEM$/);
    expect(await inView('VHOST_USER_PROTOCOL_F_SHMEM')).toBe(true);
    expect(problems).toEqual([]);
  });
});
