/**
 * The prose links sections as `#anchor`, as if the version were one document. The site splits
 * it into one page per chapter: this points each such link at the page that holds the anchor.
 * A link to an anchor no page holds is reported on the file.
 */
import type { Root } from 'hast';
import type { Plugin } from 'unified';
import { visit } from 'unist-util-visit';

export interface ResolveLinkOptions {
  /** The page (file name) that holds an anchor, or undefined. */
  pageOf: (anchor: string) => string | undefined;
  /** The page being rendered. */
  page: string;
}

const rehypeResolveLinks: Plugin<[ResolveLinkOptions], Root> =
  ({ pageOf, page }) =>
  (tree, file) => {
    visit(tree, 'element', (node) => {
      const href = node.properties.href;
      if (node.tagName !== 'a' || typeof href !== 'string' || !href.startsWith('#')) return;
      const anchor = decodeURIComponent(href.slice(1));
      const target = pageOf(anchor);
      if (target === undefined) file.message(`link to #${anchor}, which no page of this version has`, node);
      else if (target !== page) node.properties.href = `${target}#${encodeURIComponent(anchor)}`;
    });
  };

export default rehypeResolveLinks;
