/**
 * Checks a built site: every internal link (and asset, and search index) points at a file that
 * exists and, with a fragment, at an id that page has; no page repeats an id.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

export interface SitePage {
  /** Path inside the site, with forward slashes: `1.2/rings.html`. */
  path: string;
  ids: string[];
  /** href, src and data-index values. */
  links: string[];
}

export interface LinkReport {
  pages: number;
  links: number;
  problems: string[];
}

const ENTITIES: Record<string, string> = { amp: '&', quot: '"', lt: '<', gt: '>', apos: "'" };

function decode(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (all, code: string) => {
    if (code.startsWith('#x') || code.startsWith('#X')) return String.fromCodePoint(parseInt(code.slice(2), 16));
    if (code.startsWith('#')) return String.fromCodePoint(Number(code.slice(1)));
    return ENTITIES[code.toLowerCase()] ?? all;
  });
}

function attributes(html: string, name: string): string[] {
  const values: string[] = [];
  for (const match of html.matchAll(new RegExp(`\\s${name}="([^"]*)"`, 'g'))) values.push(decode(match[1] ?? ''));
  // hast-util-to-html leaves simple values unquoted.
  for (const match of html.matchAll(new RegExp(`\\s${name}=([^\\s"'>]+)`, 'g'))) values.push(decode(match[1] ?? ''));
  return values;
}

function htmlFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.html')) out.push(path);
    }
  };
  walk(dir);
  return out.sort();
}

export function readPages(dir: string): Map<string, SitePage> {
  const pages = new Map<string, SitePage>();
  for (const file of htmlFiles(dir)) {
    const html = readFileSync(file, 'utf8');
    const path = relative(dir, file).split(sep).join('/');
    pages.set(path, {
      path,
      ids: attributes(html, 'id'),
      links: [...attributes(html, 'href'), ...attributes(html, 'src'), ...attributes(html, 'data-index')],
    });
  }
  return pages;
}

export function checkLinks(dir: string): LinkReport {
  const pages = readPages(dir);
  const idSets = new Map([...pages].map(([path, page]) => [path, new Set(page.ids)]));
  const problems: string[] = [];
  let links = 0;
  for (const page of pages.values()) {
    const seen = new Set<string>();
    for (const id of page.ids) {
      if (seen.has(id)) problems.push(`${page.path}: id "${id}" appears more than once`);
      seen.add(id);
    }
    for (const link of page.links) {
      if (/^(https?:|mailto:|data:)/.test(link)) continue;
      links++;
      const url = new URL(link, `http://site.invalid/${page.path}`);
      if (url.host !== 'site.invalid') continue;
      let target = decodeURIComponent(url.pathname.slice(1));
      if (target === '' || target.endsWith('/')) target += 'index.html';
      if (!existsSync(join(dir, target))) {
        problems.push(`${page.path}: link ${link} points at ${target}, which does not exist`);
        continue;
      }
      const fragment = decodeURIComponent(url.hash.slice(1));
      if (fragment && !idSets.get(target)?.has(fragment))
        problems.push(`${page.path}: link ${link}: ${target} has no id "${fragment}"`);
    }
  }
  return { pages: pages.size, links, problems };
}

/** How many elements of the version folder `slug` carry each of `ids`. */
export function idCounts(dir: string, slug: string, ids: string[], skip: string[] = []): Map<string, number> {
  const counts = new Map(ids.map((id) => [id, 0]));
  for (const page of readPages(dir).values()) {
    if (!page.path.startsWith(`${slug}/`) || skip.includes(page.path.slice(slug.length + 1))) continue;
    for (const id of page.ids) if (counts.has(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}
