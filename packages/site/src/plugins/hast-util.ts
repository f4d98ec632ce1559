/** Small checks on hast nodes shared by the rehype plugins. */
import type { Element, Node, Parent } from 'hast';

export const HEADINGS = new Set(['h1', 'h2', 'h3', 'h4', 'h5', 'h6']);

export function isElement(node: Node | Parent | undefined): node is Element {
  return node !== undefined && node.type === 'element';
}

export function classesOf(element: Element): string[] {
  const value: unknown = element.properties.className;
  if (Array.isArray(value)) return value.map(String);
  return typeof value === 'string' ? value.split(/\s+/) : [];
}

/** Whether any ancestor is one of `tags` or carries one of `classes`. */
export function insideAny(ancestors: (Node | Parent)[], tags: Set<string>, classes: string[] = []): boolean {
  return ancestors.some((a) => isElement(a) && (tags.has(a.tagName) || classesOf(a).some((c) => classes.includes(c))));
}

/** Calls `visit` for every node of type `type`, with its ancestors (root first). */
export function eachWithAncestors<T extends Node>(
  tree: Parent,
  type: string,
  visit: (node: T, ancestors: Parent[]) => void,
): void {
  const walk = (node: Node, ancestors: Parent[]): void => {
    if (node.type === type) visit(node as T, ancestors);
    if ('children' in node && Array.isArray(node.children)) {
      const parent = node as Parent;
      for (const child of [...parent.children]) walk(child, [...ancestors, parent]);
    }
  };
  walk(tree, []);
}
