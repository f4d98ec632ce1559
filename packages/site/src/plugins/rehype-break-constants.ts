/**
 * Long constant names (`VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS`) make narrow table columns
 * break at any letter. This lets them break after an underscore instead: a `<wbr>` after each
 * underscore of inline code inside table cells.
 */
import type { Element, ElementContent, Root } from 'hast';
import type { Plugin } from 'unified';
import { eachWithAncestors, isElement } from './hast-util.js';

function withBreaks(value: string): ElementContent[] {
  const parts: ElementContent[] = [];
  const pieces = value.split('_');
  pieces.forEach((piece, i) => {
    const last = i === pieces.length - 1;
    parts.push({ type: 'text', value: last ? piece : `${piece}_` });
    if (!last) parts.push({ type: 'element', tagName: 'wbr', properties: {}, children: [] });
  });
  return parts;
}

/** Adds the breaks in place; for pages built outside the chapter pipeline (diffs, indexes). */
export function breakConstantsIn(tree: Root): void {
  eachWithAncestors<Element>(tree, 'element', (node, ancestors) => {
    if (node.tagName !== 'code' || !ancestors.some((a) => isElement(a) && (a.tagName === 'td' || a.tagName === 'th')))
      return;
    node.children = node.children.flatMap((child) =>
      child.type === 'text' && child.value.includes('_') ? withBreaks(child.value) : [child],
    );
  });
}

const rehypeBreakConstants: Plugin<[], Root> = () => breakConstantsIn;

export default rehypeBreakConstants;
