/** The frame of every page: header with search and version switcher, the text, chapter navigation, footer. */
import type { Element, ElementContent, Root } from 'hast';
import { toHtml } from 'hast-util-to-html';
import { h } from 'hastscript';
import { stackableTables } from './stackable-tables.js';
import type { ChapterInfo, SiteInfo, VersionInfo } from './site-types.js';

export interface PageFrame {
  site: SiteInfo;
  title: string;
  /** Path from this page to the site root: `../` for pages inside a folder. */
  root: string;
  /** This page's file name inside its folder. */
  page: string;
  version?: VersionInfo;
  chapters?: ChapterInfo[];
  /** The chapter shown, for the chapter list's open entry. */
  current?: ChapterInfo;
  main: ElementContent[];
  /** Links to the previous and next chapter. */
  pager?: { previous?: ChapterInfo; next?: ChapterInfo };
  /**
   * For a page served at any depth (404.html): the stylesheet inlined, and a script that finds
   * the site root so the links work wherever the server answered with it.
   */
  anyDepth?: { css: string };
}

function versionSwitcher(frame: PageFrame, version: VersionInfo): Element {
  return h('details', { className: ['version-switch'] }, [
    h('summary', ['Version ', h('strong', version.label)]),
    h(
      'ul',
      frame.site.versions.map((v) => {
        const samePage = frame.site.pagesOf.get(v.slug)?.has(frame.page) ?? false;
        const href = `${frame.root}${v.slug}/${samePage ? frame.page : 'index.html'}`;
        return h(
          'li',
          h(
            'a',
            {
              href,
              dataVersion: v.slug,
              className: ['version-link'],
              ariaCurrent: v.slug === version.slug ? 'page' : undefined,
            },
            v.label,
          ),
        );
      }),
    ),
  ]);
}

/** The search box: a WAI-ARIA combobox; site.js shows it and loads the search code on first use. */
function searchBox(frame: PageFrame, version: VersionInfo): Element {
  return h(
    'form',
    {
      className: ['search'],
      role: 'search',
      ariaLabel: 'Spec',
      hidden: true,
      dataIndex: `${frame.root}${version.slug}/search-index.json`,
    },
    [
      h('input', {
        type: 'text',
        name: 'q',
        role: 'combobox',
        placeholder: 'Search names, ids, masks, sections',
        ariaLabel: 'Search the spec',
        ariaAutocomplete: 'list',
        ariaExpanded: 'false',
        ariaControls: 'search-results',
        autocomplete: 'off',
        spellCheck: 'false',
      }),
      h('ul', {
        className: ['search-results'],
        id: 'search-results',
        role: 'listbox',
        ariaLabel: 'Results',
        hidden: true,
      }),
      h('p', { className: ['search-count', 'visually-hidden'], role: 'status', ariaLive: 'polite' }),
    ],
  );
}

function header(frame: PageFrame): Element {
  const version = frame.version;
  return h('header', { className: ['site-header'] }, [
    h('a', { className: ['site-title'], href: `${frame.root}index.html` }, frame.site.title),
    h('nav', { className: ['site-nav'], ariaLabel: 'Site' }, [
      version ? h('a', { href: `${frame.root}${version.slug}/index.html` }, 'Contents') : null,
      h('a', { href: `${frame.root}diff/index.html` }, 'Changes'),
      h('a', { href: `${frame.root}implementations.html` }, 'Implementations'),
    ]),
    version ? versionSwitcher(frame, version) : null,
    version ? searchBox(frame, version) : null,
  ]);
}

/** On a release older than the newest one: where the newest release has the same page. */
function oldReleaseBanner(frame: PageFrame): Element | null {
  const version = frame.version;
  const newest = frame.site.versions.find((v) => v.version !== 'draft');
  if (!version || !newest || version.version === 'draft' || version.slug === newest.slug) return null;
  const samePage = frame.site.pagesOf.get(newest.slug)?.has(frame.page) ?? false;
  return h('p', { className: ['old-release'], role: 'note' }, [
    `This is release ${version.label}; the newest release is ${newest.label}. `,
    h(
      'a',
      { href: `${frame.root}${newest.slug}/${samePage ? frame.page : 'index.html'}`, className: ['keep-anchor'] },
      samePage ? `Read this page in ${newest.label}` : `Go to ${newest.label}`,
    ),
    '.',
  ]);
}

/** A title that may be a long constant name: allowed to break after each underscore. */
function breakable(title: string): ElementContent[] {
  return title.split('_').flatMap((part, i, all): ElementContent[] =>
    i === all.length - 1
      ? [{ type: 'text', value: part }]
      : [
          { type: 'text', value: `${part}_` },
          { type: 'element', tagName: 'wbr', properties: {}, children: [] },
        ],
  );
}

/** The chapter list. It follows the text in the document, so a phone shows the text first. */
function chapterNav(frame: PageFrame): Element | null {
  if (!frame.chapters || !frame.version) return null;
  return h('nav', { className: ['sidebar'], ariaLabel: 'Chapters', id: 'chapters' }, [
    h(
      'ol',
      { className: ['toc'] },
      frame.chapters.map((c) =>
        h('li', { className: c === frame.current ? ['current'] : [] }, [
          h('a', { href: c.page, ariaCurrent: c === frame.current ? 'page' : undefined }, [
            h('span', { className: ['secno'] }, String(c.number)),
            ' ',
            c.title,
          ]),
          c === frame.current
            ? h(
                'ol',
                c.toc
                  .filter((t) => t.depth === 2)
                  .map((t) =>
                    h(
                      'li',
                      h('a', { href: `#${t.id}` }, [
                        h('span', { className: ['secno'] }, t.number),
                        h('span', breakable(t.title)),
                      ]),
                    ),
                  ),
              )
            : null,
        ]),
      ),
    ),
  ]);
}

function pager(frame: PageFrame): Element | null {
  if (!frame.pager) return null;
  const { previous, next } = frame.pager;
  return h('nav', { className: ['pager'], ariaLabel: 'Previous and next chapter' }, [
    previous ? h('a', { rel: 'prev', href: previous.page }, `← ${previous.number} ${previous.title}`) : h('span'),
    next ? h('a', { rel: 'next', href: next.page }, `${next.number} ${next.title} →`) : h('span'),
  ]);
}

/** 404.html: finds the folder holding assets/site.css above the requested path and makes it the base. */
const FIND_ROOT = `(() => {
  const parts = location.pathname.split('/').slice(0, -1);
  const tries = parts.map((_, i) => parts.slice(0, parts.length - i).join('/') + '/');
  (async () => {
    for (const dir of tries) {
      const ok = await fetch(dir + 'assets/site.css', { method: 'HEAD' }).then((r) => r.ok, () => false);
      if (!ok) continue;
      for (const a of document.querySelectorAll('a[href]')) a.href = new URL(a.getAttribute('href'), location.origin + dir).href;
      return;
    }
  })();
})();`;

export function renderPage(frame: PageFrame): string {
  const side = chapterNav(frame);
  const pagerNav = pager(frame);
  const head: ElementContent[] = [
    h('meta', { charset: 'utf-8' }),
    h('meta', { name: 'viewport', content: 'width=device-width, initial-scale=1' }),
    h('meta', { name: 'color-scheme', content: 'light dark' }),
    h('title', `${frame.title} · ${frame.site.title}${frame.version ? ` ${frame.version.label}` : ''}`),
    h('link', { rel: 'icon', href: 'data:,' }),
  ];
  if (frame.anyDepth) head.push(h('style', frame.anyDepth.css), h('script', FIND_ROOT));
  else
    head.push(
      h('link', { rel: 'stylesheet', href: `${frame.root}assets/site.css` }),
      h('script', { type: 'module', src: `${frame.root}assets/site.js` }),
    );
  const tree: Root = {
    type: 'root',
    children: [
      { type: 'doctype' },
      h('html', { lang: 'en' }, [
        h('head', head),
        h('body', { dataRoot: frame.root, dataVersion: frame.version?.slug, dataPage: frame.page }, [
          h('a', { className: ['skip'], href: '#main' }, 'Skip to the text'),
          header(frame),
          h('div', { className: side ? ['layout', 'with-sidebar'] : ['layout'] }, [
            h('main', { id: 'main' }, [
              ...[oldReleaseBanner(frame)].filter((e): e is Element => e !== null),
              ...stackableTables(frame.main),
              ...(pagerNav ? [pagerNav] : []),
            ]),
            side,
          ]),
          h('footer', { className: ['site-footer'] }, [
            frame.version ? `${frame.site.title}, ${frame.version.label}. ` : '',
            'Generated from the YAML tables and Markdown prose of spec/.',
          ]),
        ]),
      ]),
    ],
  };
  return toHtml(tree);
}
