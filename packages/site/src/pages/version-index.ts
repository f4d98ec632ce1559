/** A version's front page: what the release is, and the full table of contents. */
import type { Element, ElementContent } from 'hast';
import { h } from 'hastscript';
import { text } from '../render/common.js';
import type { ChapterInfo, SiteInfo, VersionInfo } from './site-types.js';

function tocOf(chapter: ChapterInfo): Element {
  const entries = chapter.toc.filter((t) => t.depth === 2 || t.depth === 3);
  return h('li', [
    h('a', { href: chapter.page }, [h('span', { className: ['secno'] }, String(chapter.number)), ' ', chapter.title]),
    entries.length
      ? h(
          'ol',
          entries.map((t) =>
            h(
              'li',
              { className: [`toc-depth-${t.depth}`] },
              h('a', { href: `${chapter.page}#${t.id}` }, [
                h('span', { className: ['secno'] }, t.number),
                ' ',
                t.title,
              ]),
            ),
          ),
        )
      : null,
  ]);
}

export function versionIndexMain(site: SiteInfo, version: VersionInfo, chapters: ChapterInfo[]): ElementContent[] {
  const corresponds = Object.entries(version.corresponds);
  const diffs = site.diffs.filter((d) => d.to.slug === version.slug || d.from.slug === version.slug);
  return [
    h('h1', [site.title, ' ', h('span', { className: ['version-badge'] }, version.label)]),
    h('p', { className: ['lead'] }, text(version.summary)),
    corresponds.length
      ? h('p', [
          'Corresponds to: ',
          ...corresponds.flatMap(([name, what], i) => [i ? '; ' : '', h('strong', name), ` ${what}`]),
        ])
      : null,
    diffs.length
      ? h('p', [
          'Changes: ',
          ...diffs.flatMap((d, i) => [
            i ? ', ' : '',
            h('a', { href: `../diff/${d.page}` }, `${d.from.label} → ${d.to.label}`),
          ]),
        ])
      : null,
    h('p', { className: ['other-views'] }, [
      'Also: ',
      h('a', { href: 'all.html' }, 'the whole spec on one page'),
      ' · ',
      h('a', { href: 'numbers.html' }, 'messages and bits by number'),
      ' · ',
      h('a', { href: 'vhost-user.rst' }, 'reStructuredText'),
    ]),
    h('h2', { id: 'contents' }, 'Contents'),
    h('ol', { className: ['toc', 'toc-full'] }, chapters.map(tocOf)),
  ].filter((e): e is Element => e !== null);
}
