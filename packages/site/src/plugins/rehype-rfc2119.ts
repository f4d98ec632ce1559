/** Marks the RFC 2119 keywords (MUST, MUST NOT, SHOULD, MAY, ...) in running text. */
import type { ElementContent, Root, Text } from 'hast';
import { h } from 'hastscript';
import type { Plugin } from 'unified';
import { eachWithAncestors, HEADINGS, insideAny } from './hast-util.js';

// Two-word keywords may be split across source lines (frozen releases keep such lines), so any
// whitespace joins them; the mark shows them with one space.
const KEYWORDS =
  /\b(MUST\s+NOT|MUST|SHALL\s+NOT|SHALL|SHOULD\s+NOT|SHOULD|NOT\s+RECOMMENDED|RECOMMENDED|REQUIRED|MAY|OPTIONAL)\b/g;
const SKIP_TAGS = new Set(['code', 'pre', 'a', 'script', 'style', ...HEADINGS]);

export function keywordClass(keyword: string): string {
  return `kw-${keyword.toLowerCase().replace(/\s+/g, '-')}`;
}

/** Splits a text into plain runs and keyword elements; undefined when it has none. */
export function markKeywords(value: string): ElementContent[] | undefined {
  const parts: ElementContent[] = [];
  let last = 0;
  for (const match of value.matchAll(KEYWORDS)) {
    const at = match.index ?? 0;
    if (at > last) parts.push({ type: 'text', value: value.slice(last, at) });
    const keyword = match[0].replace(/\s+/g, ' ');
    parts.push(h('em', { className: ['kw', keywordClass(keyword)] }, keyword));
    last = at + match[0].length;
  }
  if (parts.length === 0) return undefined;
  if (last < value.length) parts.push({ type: 'text', value: value.slice(last) });
  return parts;
}

const rehypeRfc2119: Plugin<[], Root> = () => (tree) => {
  const edits: { text: Text; parent: { children: ElementContent[] }; parts: ElementContent[] }[] = [];
  eachWithAncestors<Text>(tree, 'text', (node, ancestors) => {
    if (insideAny(ancestors, SKIP_TAGS, ['kw', 'level'])) return;
    const parts = markKeywords(node.value);
    const parent = ancestors[ancestors.length - 1];
    if (parts && parent && 'children' in parent)
      edits.push({ text: node, parent: parent as { children: ElementContent[] }, parts });
  });
  for (const { text, parent, parts } of edits) parent.children.splice(parent.children.indexOf(text), 1, ...parts);
};

export default rehypeRfc2119;
