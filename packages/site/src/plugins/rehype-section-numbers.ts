/**
 * Numbers the headings of a chapter (`18`, `18.9`, `18.9.1`) and records the table of
 * contents in `file.data.toc`. Runs after the anchors, so each entry has its id.
 */
import type { Element, Root } from 'hast';
import { toString } from 'hast-util-to-string';
import { h } from 'hastscript';
import type { Plugin } from 'unified';
import { visit } from 'unist-util-visit';
import { classesOf, HEADINGS } from './hast-util.js';

export interface TocEntry {
  depth: number;
  number: string;
  title: string;
  id: string;
}

declare module 'vfile' {
  interface DataMap {
    toc: TocEntry[];
  }
}

export interface SectionNumberOptions {
  /** The chapter's number in reading order (1-based). */
  chapter: number;
}

/** The heading's text without its self-link. */
function titleOf(heading: Element): string {
  const text = heading.children.filter((c) => !(c.type === 'element' && classesOf(c).includes('self-link')));
  return toString({ type: 'element', tagName: 'span', properties: {}, children: text }).trim();
}

const rehypeSectionNumbers: Plugin<[SectionNumberOptions], Root> = (options) => (tree, file) => {
  const counters: number[] = [];
  const toc: TocEntry[] = [];
  visit(tree, 'element', (node) => {
    if (!HEADINGS.has(node.tagName)) return;
    const depth = Number(node.tagName.slice(1));
    if (depth > 1) {
      counters.length = Math.max(counters.length, depth - 1);
      for (let i = 0; i < depth - 2; i++) counters[i] ??= 0;
      counters[depth - 2] = (counters[depth - 2] ?? 0) + 1;
      counters.length = depth - 1;
    } else {
      counters.length = 0;
    }
    const number = [options.chapter, ...counters].join('.');
    const title = titleOf(node);
    node.children.unshift(h('span', { className: ['secno'] }, number), { type: 'text', value: ' ' });
    toc.push({ depth, number, title, id: String(node.properties.id ?? '') });
  });
  file.data.toc = toc;
};

export default rehypeSectionNumbers;
