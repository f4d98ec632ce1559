/**
 * A version on one page (all.html): every chapter in order, for Ctrl-F over the whole spec and
 * for printing. Links between chapters become links inside the page.
 */
import type { Element, ElementContent, Root } from 'hast';
import { h } from 'hastscript';
import { visit } from 'unist-util-visit';
import type { RenderedChapter } from '../render-version.js';
import type { VersionInfo } from './site-types.js';

/** `rings.html#ring-states` to `#ring-states`; `rings.html` to the chapter's first heading. */
function localLinks(tree: Root, chapterTop: Map<string, string>): void {
  visit(tree, 'element', (node) => {
    const href = node.properties.href;
    if (node.tagName !== 'a' || typeof href !== 'string') return;
    const match = /^([a-z0-9-]+\.html)(#.*)?$/.exec(href);
    if (!match) return;
    const top = chapterTop.get(match[1] as string);
    if (top === undefined) return;
    node.properties.href = match[2] ?? `#${top}`;
  });
}

export function singlePageMain(version: VersionInfo, chapters: RenderedChapter[]): ElementContent[] {
  const chapterTop = new Map(chapters.map((c) => [c.info.page, c.info.toc[0]?.id ?? '']));
  // Built after the chapter pages: their links are changed in place.
  const sections = chapters.map((chapter) => {
    const tree = chapter.tree;
    localLinks(tree, chapterTop);
    const content = tree.children.filter((n) => n.type !== 'doctype') as ElementContent[];
    return h('section', { className: ['chapter'] }, content) as Element;
  });
  return [
    h('p', { className: ['single-page-note'] }, [
      `The whole of ${version.label} on one page, for searching with the browser and for printing. `,
      h('a', { href: 'index.html' }, 'Contents'),
      ' · ',
      h('a', { href: 'vhost-user.rst' }, 'reStructuredText source'),
      '.',
    ]),
    ...sections,
  ];
}
