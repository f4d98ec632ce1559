/**
 * The site in a real browser: Debian's Chromium driven by playwright-core. Search a message and
 * land on its anchor, switch versions (with and without JavaScript), read the 1.1 -> 1.2 diff,
 * and keep screenshots of a message page (light and dark) in test/site/artifacts/.
 *
 * Without Chromium these tests fail under CI=true and are skipped elsewhere, with a message.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

describe.runIf(haveChromium)('the site in Chromium', () => {
  let browser: Browser;
  let server: RunningServer;
  let remove: () => void;

  beforeAll(async () => {
    const built = await buildIntoTemp();
    remove = built.remove;
    server = await serveStatic(built.dir);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    remove?.();
  });

  /** Script errors and failed requests of each open page, checked when it is closed. */
  const problems = new Map<Page, string[]>();

  async function open(
    path: string,
    options: { colorScheme?: 'light' | 'dark'; javaScriptEnabled?: boolean } = {},
  ): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
    const page = await context.newPage();
    const seen: string[] = [];
    problems.set(page, seen);
    page.on('pageerror', (error) => seen.push(`script error: ${error.message}`));
    page.on('response', (response) => {
      if (response.status() >= 400) seen.push(`HTTP ${response.status()} for ${response.url()}`);
    });
    await page.goto(new URL(path, server.url).href);
    return page;
  }

  async function close(page: Page): Promise<void> {
    await page.context().close();
    expect(problems.get(page)).toEqual([]);
  }

  const inView = (page: Page, id: string): Promise<boolean> =>
    page.evaluate((anchor) => {
      const element = document.getElementById(anchor);
      if (!element) return false;
      const box = element.getBoundingClientRect();
      return box.top >= 0 && box.top < window.innerHeight && box.bottom > 0;
    }, id);

  it('searches a message from the front page and lands on its anchor, in view', async () => {
    const page = await open('index.html');
    await page.getByRole('link', { name: 'latest (draft)' }).first().click();
    await page.waitForURL(/\/latest\/index\.html$/);
    const search = page.getByRole('searchbox', { name: 'Search the spec' });
    await search.fill('SET_VRING_ADDR');
    const result = page.locator('.search-results a', { hasText: 'VHOST_USER_SET_VRING_ADDR' }).first();
    await result.waitFor();
    await result.click();
    await page.waitForURL(/\/latest\/frontend-messages\.html#VHOST_USER_SET_VRING_ADDR$/);
    expect(await inView(page, 'VHOST_USER_SET_VRING_ADDR')).toBe(true);
    // The search box is out of the way once a result is followed.
    expect(await page.locator('.search-results').isHidden()).toBe(true);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}message-page.png` });
    await close(page);
  });

  it('renders the message page in dark mode (screenshot artifact)', async () => {
    const page = await open('latest/frontend-messages.html#VHOST_USER_SET_VRING_ADDR', { colorScheme: 'dark' });
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).not.toBe('rgb(255, 255, 255)');
    expect(await inView(page, 'VHOST_USER_SET_VRING_ADDR')).toBe(true);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}message-page-dark.png` });
    await close(page);
  });

  it('switches version, keeping the chapter and the section', async () => {
    const page = await open('latest/frontend-messages.html#VHOST_USER_GET_VRING_BASE');
    await page.locator('.version-switch summary').click();
    await page.locator('.version-switch a', { hasText: /^1\.1$/ }).click();
    await page.waitForURL(/\/1\.1\/frontend-messages\.html#VHOST_USER_GET_VRING_BASE$/);
    expect(await page.locator('.version-switch summary strong').textContent()).toBe('1.1');
    expect(await inView(page, 'VHOST_USER_GET_VRING_BASE')).toBe(true);
    // SHMEM arrived in 1.2, so 1.1 has no section for it.
    expect(await page.locator('#VHOST_USER_GET_SHMEM_CONFIG').count()).toBe(0);
    await close(page);
  });

  it('works without JavaScript: no search box, version links still go to the same chapter', async () => {
    const page = await open('1.2/rings.html', { javaScriptEnabled: false });
    expect(await page.locator('form.search').isHidden()).toBe(true);
    await page.locator('.version-switch summary').click();
    await page.locator('.version-switch a', { hasText: /^1\.0$/ }).click();
    await page.waitForURL(/\/1\.0\/rings\.html$/);
    expect(await page.locator('#ring-states').count()).toBe(1);
    await close(page);
  });

  it('lists the SHMEM additions on the 1.1 -> 1.2 diff page', async () => {
    const page = await open('diff/index.html');
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
    expect(await inView(page, 'VHOST_USER_PROTOCOL_F_SHMEM')).toBe(true);
    await close(page);
  });
});
