/** The frame of every page: header with search and version switcher, sidebar, footer. */
import type { Element, ElementContent, Root } from 'hast';
import { toHtml } from 'hast-util-to-html';
import { h } from 'hastscript';
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
  /** The chapter shown, for the sidebar's open entry. */
  current?: ChapterInfo;
  main: ElementContent[];
  /** Links to the previous and next chapter. */
  pager?: { previous?: ChapterInfo; next?: ChapterInfo };
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

function header(frame: PageFrame): Element {
  const version = frame.version;
  return h('header', { className: ['site-header'] }, [
    h('a', { className: ['site-title'], href: `${frame.root}index.html` }, frame.site.title),
    h('nav', { className: ['site-nav'], ariaLabel: 'Site' }, [
      version ? h('a', { href: `${frame.root}${version.slug}/index.html` }, 'Contents') : null,
      h('a', { href: `${frame.root}diff/index.html` }, 'Changes'),
      h('a', { href: `${frame.root}implementations.html` }, 'Implementations'),
    ]),
    version
      ? h(
          'form',
          {
            className: ['search'],
            role: 'search',
            hidden: true,
            dataIndex: `${frame.root}${version.slug}/search-index.json`,
          },
          [
            h('input', {
              type: 'search',
              name: 'q',
              placeholder: 'Search messages, bits, payloads, sections',
              ariaLabel: 'Search the spec',
              autocomplete: 'off',
            }),
            h('ol', { className: ['search-results'], hidden: true }),
          ],
        )
      : null,
    version ? versionSwitcher(frame, version) : null,
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

function sidebar(frame: PageFrame): Element | null {
  if (!frame.chapters || !frame.version) return null;
  return h('nav', { className: ['sidebar'], ariaLabel: 'Chapters' }, [
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
  return h('nav', { className: ['pager'], ariaLabel: 'Chapters' }, [
    previous ? h('a', { rel: 'prev', href: previous.page }, `← ${previous.number} ${previous.title}`) : h('span'),
    next ? h('a', { rel: 'next', href: next.page }, `${next.number} ${next.title} →`) : h('span'),
  ]);
}

export function renderPage(frame: PageFrame): string {
  const side = sidebar(frame);
  const tree: Root = {
    type: 'root',
    children: [
      { type: 'doctype' },
      h('html', { lang: 'en' }, [
        h('head', [
          h('meta', { charset: 'utf-8' }),
          h('meta', { name: 'viewport', content: 'width=device-width, initial-scale=1' }),
          h('meta', { name: 'color-scheme', content: 'light dark' }),
          h('title', `${frame.title} · ${frame.site.title}${frame.version ? ` ${frame.version.label}` : ''}`),
          h('link', { rel: 'icon', href: 'data:,' }),
          h('link', { rel: 'stylesheet', href: `${frame.root}assets/site.css` }),
          h('script', { type: 'module', src: `${frame.root}assets/site.js` }),
        ]),
        h('body', { dataRoot: frame.root, dataVersion: frame.version?.slug }, [
          h('a', { className: ['skip'], href: '#main' }, 'Skip to the text'),
          header(frame),
          h('div', { className: side ? ['layout', 'with-sidebar'] : ['layout'] }, [
            side,
            h('main', { id: 'main' }, [...frame.main, ...(pager(frame) ? [pager(frame) as Element] : [])]),
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
