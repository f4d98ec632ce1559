/**
 * Anchors for former names: a link to `#VHOST_USER_SET_SLAVE_REQ_FD` lands on the section of
 * VHOST_USER_SET_BACKEND_REQ_FD. Each former name becomes an empty element with that id at the
 * start of the current name's heading.
 */
import type { Root } from 'hast';
import { h } from 'hastscript';
import type { Plugin } from 'unified';
import { visit } from 'unist-util-visit';
import { HEADINGS } from './hast-util.js';

export interface FormerNameOptions {
  /** Current name to its former names. */
  formerNames: Map<string, string[]>;
}

const rehypeFormerNames: Plugin<[FormerNameOptions], Root> =
  ({ formerNames }) =>
  (tree) => {
    visit(tree, 'element', (node) => {
      const id = node.properties.id;
      if (!HEADINGS.has(node.tagName) || typeof id !== 'string') return;
      const former = formerNames.get(id);
      if (!former) return;
      node.children.unshift(...former.map((name) => h('span', { id: name, className: ['former-name-anchor'] })));
    });
  };

export default rehypeFormerNames;
