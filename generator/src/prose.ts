/**
 * Reading the Markdown chapters of a spec: their sections (with anchors), the markers that
 * pull YAML tables into the text, and every protocol constant the text mentions.
 *
 * Markers are remark-directive leaf directives on a line of their own, e.g.
 * `::message{name=VHOST_USER_SET_VRING_ADDR}`; the site renderer expands them.
 */
import { relative } from 'node:path';
import type { Root } from 'mdast';
import remarkDirective from 'remark-directive';
import remarkGfm from 'remark-gfm';
import remarkParse from 'remark-parse';
import { unified } from 'unified';
import { visit } from 'unist-util-visit';
import { toString } from 'mdast-util-to-string';
import type { SourceLocation } from './yaml-file.js';

export interface ProseSection {
  depth: number;
  title: string;
  anchor: string;
  loc: SourceLocation;
}

export interface ProseMarker {
  kind: string;
  attributes: Record<string, string>;
  loc: SourceLocation;
}

export interface ProseMention {
  name: string;
  loc: SourceLocation;
}

export interface ProseLink {
  url: string;
  loc: SourceLocation;
}

export interface ProseChapter {
  file: string;
  displayPath: string;
  markdown: string;
  tree: Root;
  sections: ProseSection[];
  markers: ProseMarker[];
  mentions: ProseMention[];
  links: ProseLink[];
}

/** Protocol constants as they appear in the text. */
export const CONSTANT_PATTERN = /\b(?:VHOST_USER|VHOST|VIRTIO|VIRTQ|RING_EVENT)_[A-Z0-9_]*[A-Z0-9]\b/g;
/** Constant names have an underscore; all-caps words such as IOTLB are ordinary titles. */
const CONSTANT_NAME = /^[A-Z][A-Z0-9]*_[A-Z0-9_]+$/;

/** Headings that are exactly a constant name keep it as their anchor; others are slugged. */
export function anchorFor(title: string): string {
  if (CONSTANT_NAME.test(title)) return title;
  return title
    .toLowerCase()
    .replace(/[^a-z0-9\s-]/g, '')
    .trim()
    .replace(/\s+/g, '-');
}

export function parseMarkdown(markdown: string): Root {
  return unified().use(remarkParse).use(remarkGfm).use(remarkDirective).parse(markdown) as Root;
}

export function parseChapter(markdown: string, path: string, root: string): ProseChapter {
  const displayPath = relative(root, path) || path;
  const tree = parseMarkdown(markdown);
  const at = (node: { position?: { start: { line: number; column: number } } }): SourceLocation => ({
    file: displayPath,
    line: node.position?.start.line ?? 1,
    column: node.position?.start.column ?? 1,
  });

  const sections: ProseSection[] = [];
  const markers: ProseMarker[] = [];
  const mentions: ProseMention[] = [];
  const links: ProseLink[] = [];

  visit(tree, (node) => {
    if (node.type === 'heading') {
      const title = toString(node).trim();
      sections.push({ depth: node.depth, title, anchor: anchorFor(title), loc: at(node) });
    } else if (node.type === 'link') {
      links.push({ url: node.url, loc: at(node) });
    } else if (node.type === 'leafDirective') {
      const attributes: Record<string, string> = {};
      for (const [key, value] of Object.entries(node.attributes ?? {})) {
        if (typeof value === 'string') attributes[key] = value;
      }
      markers.push({ kind: node.name, attributes, loc: at(node) });
    } else if (node.type === 'text' || node.type === 'inlineCode' || node.type === 'code') {
      const start = node.position?.start ?? { line: 1, column: 1 };
      const lines = node.value.split('\n');
      lines.forEach((line, index) => {
        for (const match of line.matchAll(CONSTANT_PATTERN)) {
          const column = index === 0 ? start.column + (match.index ?? 0) : (match.index ?? 0) + 1;
          mentions.push({ name: match[0], loc: { file: displayPath, line: start.line + index, column } });
        }
      });
    }
  });

  return { file: path, displayPath, markdown, tree, sections, markers, mentions, links };
}
