/**
 * Links every mention of a message or feature name (or a former name) to its section:
 * `<code>VHOST_USER_GET_FEATURES</code>` and plain-text mentions alike. Headings, code
 * blocks and existing links are left alone.
 */
import { CONSTANT_PATTERN } from '@vhost-user/generator';
import type { Element, ElementContent, Parent, Root, Text } from 'hast';
import { toString } from 'hast-util-to-string';
import { h } from 'hastscript';
import type { Plugin } from 'unified';
import type { NameTarget } from '../spec-view.js';
import { eachWithAncestors, HEADINGS, insideAny } from './hast-util.js';

export interface LinkMentionOptions {
  targets: Map<string, NameTarget>;
}

const SKIP_TAGS = new Set(['a', 'pre', 'script', 'style', ...HEADINGS]);

function link(target: NameTarget, children: ElementContent[]): Element {
  return h('a', { href: `#${target.anchor}`, className: ['mention'], title: target.title }, children);
}

const rehypeLinkMentions: Plugin<[LinkMentionOptions], Root> =
  ({ targets }) =>
  (tree) => {
    const edits: { node: ElementContent; parent: Parent; replacement: ElementContent[] }[] = [];

    eachWithAncestors<Element>(tree, 'element', (node, ancestors) => {
      if (node.tagName !== 'code' || insideAny(ancestors, SKIP_TAGS)) return;
      const target = targets.get(toString(node).trim());
      const parent = ancestors[ancestors.length - 1];
      if (target && parent) edits.push({ node, parent, replacement: [link(target, [node])] });
    });

    eachWithAncestors<Text>(tree, 'text', (node, ancestors) => {
      if (insideAny(ancestors, new Set([...SKIP_TAGS, 'code']))) return;
      const parent = ancestors[ancestors.length - 1];
      if (!parent) return;
      const parts: ElementContent[] = [];
      let last = 0;
      for (const match of node.value.matchAll(new RegExp(CONSTANT_PATTERN.source, 'g'))) {
        const target = targets.get(match[0]);
        if (!target) continue;
        const at = match.index ?? 0;
        if (at > last) parts.push({ type: 'text', value: node.value.slice(last, at) });
        parts.push(link(target, [{ type: 'text', value: match[0] }]));
        last = at + match[0].length;
      }
      if (parts.length === 0) return;
      if (last < node.value.length) parts.push({ type: 'text', value: node.value.slice(last) });
      edits.push({ node, parent, replacement: parts });
    });

    for (const { node, parent, replacement } of edits) {
      const index = parent.children.indexOf(node as never);
      if (index >= 0) parent.children.splice(index, 1, ...(replacement as never[]));
    }
  };

export default rehypeLinkMentions;
