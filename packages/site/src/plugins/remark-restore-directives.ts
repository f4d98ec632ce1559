/**
 * remark-directive reads `a:b` in ordinary text as a text directive (so "10:30" would lose its
 * ":30"). The spec uses only leaf directives, and only a few names: every text directive, and
 * every leaf or container directive with another name, goes back to the text it was written as.
 */
import type { Paragraph, Root, Text } from 'mdast';
import type { ContainerDirective, LeafDirective, TextDirective } from 'mdast-util-directive';
import type { Plugin } from 'unified';
import { SKIP, visit } from 'unist-util-visit';
import type { VFile } from 'vfile';

export interface RestoreDirectivesOptions {
  /** Leaf directive names that are real markers. */
  markers: readonly string[];
}

type Directive = TextDirective | LeafDirective | ContainerDirective;

/** The directive exactly as written, from the source; rebuilt from its parts without one. */
function sourceOf(node: Directive, file: VFile): string {
  const start = node.position?.start.offset;
  const end = node.position?.end.offset;
  if (typeof file.value === 'string' && start !== undefined && end !== undefined) return file.value.slice(start, end);
  const colons = node.type === 'textDirective' ? ':' : node.type === 'leafDirective' ? '::' : ':::';
  return `${colons}${node.name}`;
}

const remarkRestoreDirectives: Plugin<[RestoreDirectivesOptions], Root> = (options) => {
  const markers = new Set(options.markers);
  return (tree, file) => {
    visit(tree, (node, index, parent) => {
      if (parent === undefined || index === undefined) return;
      if (node.type !== 'textDirective' && node.type !== 'leafDirective' && node.type !== 'containerDirective') return;
      if (node.type === 'leafDirective' && markers.has(node.name)) return SKIP;
      const text: Text = { type: 'text', value: sourceOf(node, file) };
      const replacement: Text | Paragraph =
        node.type === 'textDirective' ? text : { type: 'paragraph', children: [text] };
      parent.children.splice(index, 1, replacement as never);
      return [SKIP, index + 1];
    });
  };
};

export default remarkRestoreDirectives;
