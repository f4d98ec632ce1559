/**
 * Gives every heading its id, computed exactly as the generator's anchorFor does (a heading
 * that is a constant name keeps it: `#VHOST_USER_SET_VRING_ADDR`), plus a link to itself.
 */
import { anchorFor } from '@vhost-user/generator';
import type { Root } from 'hast';
import { toString } from 'hast-util-to-string';
import { h } from 'hastscript';
import type { Plugin } from 'unified';
import { visit } from 'unist-util-visit';
import { HEADINGS } from './hast-util.js';

const rehypeHeadingAnchors: Plugin<[], Root> = () => (tree, file) => {
  const seen = new Set<string>();
  visit(tree, 'element', (node) => {
    if (!HEADINGS.has(node.tagName)) return;
    const id = typeof node.properties.id === 'string' ? node.properties.id : anchorFor(toString(node).trim());
    if (seen.has(id)) file.message(`two headings have the anchor #${id}`, node);
    seen.add(id);
    node.properties.id = id;
    node.children.push(h('a', { className: ['self-link'], href: `#${id}`, ariaLabel: 'Link to this section' }, '§'));
  });
};

export default rehypeHeadingAnchors;
