/** The site's front page, the list of diffs, and the not-found page. */
import type { ElementContent } from 'hast';
import { h } from 'hastscript';
import { text } from '../render/common.js';
import type { SiteInfo } from './site-types.js';

export function homeMain(site: SiteInfo): ElementContent[] {
  return [
    h('h1', site.title),
    h(
      'p',
      { className: ['lead'] },
      'The vhost-user protocol, rendered from the YAML tables and Markdown prose of the spec repository. Every frozen release keeps its own pages; the working draft is at latest.',
    ),
    h('table', { className: ['spec-table', 'versions'] }, [
      h(
        'thead',
        h(
          'tr',
          ['Version', 'What it is', 'Corresponds to'].map((label) => h('th', { scope: 'col' }, label)),
        ),
      ),
      h(
        'tbody',
        site.versions.map((v) =>
          h('tr', [
            h('td', h('a', { href: `${v.slug}/index.html`, className: ['version-link'] }, v.label)),
            h('td', text(v.summary)),
            h(
              'td',
              Object.entries(v.corresponds)
                .map(([k, w]) => `${k}: ${w}`)
                .join('; ') || '—',
            ),
          ]),
        ),
      ),
    ]),
    h('p', ['What changed between versions: ', h('a', { href: 'diff/index.html' }, 'changes'), '.']),
  ];
}

export function diffIndexMain(site: SiteInfo): ElementContent[] {
  return [
    h('h1', 'Changes between versions'),
    h(
      'p',
      'Each page lists the semantic changes (messages, feature bits, payloads, rules) and then the changes to the text, chapter by chapter.',
    ),
    h(
      'ul',
      { className: ['diff-list'] },
      site.diffs.map((d) => h('li', h('a', { href: d.page }, `${d.from.label} → ${d.to.label}`))),
    ),
  ];
}

export function notFoundMain(): ElementContent[] {
  return [
    h('h1', 'Page not found'),
    h('p', ['Start again from the ', h('a', { href: 'index.html' }, 'front page'), '.']),
  ];
}
