/**
 * Tables that become stacked cards on a narrow screen: every body cell gets the label of its
 * column (`data-label`, shown by the stylesheet before the value), and every table sits in a
 * scroll box so a wide one scrolls inside the page instead of widening it.
 */
import type { Element, ElementContent } from 'hast';
import { toString } from 'hast-util-to-string';

const isElement = (node: ElementContent): node is Element => node.type === 'element';
const childElements = (node: Element, tag?: string): Element[] =>
  node.children.filter((c): c is Element => isElement(c) && (tag === undefined || c.tagName === tag));

function span(cell: Element): number {
  const value = Number(cell.properties.colSpan ?? 1);
  return Number.isFinite(value) && value > 0 ? value : 1;
}

function labelCells(table: Element): void {
  const head = childElements(table, 'thead')[0];
  const headRow = head ? childElements(head, 'tr').at(-1) : undefined;
  if (!headRow) return;
  const labels: string[] = [];
  for (const th of childElements(headRow)) {
    const text = toString(th).trim();
    for (let i = 0; i < span(th); i++) labels.push(text);
  }
  for (const body of childElements(table, 'tbody')) {
    for (const row of childElements(body, 'tr')) {
      let column = 0;
      for (const cell of childElements(row)) {
        const whole = span(cell) >= labels.length;
        const label = whole ? '' : (labels[column] ?? '');
        if (label && cell.properties.dataLabel === undefined) cell.properties.dataLabel = label;
        column += span(cell);
      }
    }
  }
  const classes = Array.isArray(table.properties.className) ? table.properties.className : [];
  table.properties.className = [...classes, 'stack'];
}

function transform(nodes: ElementContent[]): ElementContent[] {
  return nodes.map((node) => {
    if (!isElement(node)) return node;
    // Already done (the single page reuses the chapter pages' trees).
    if (
      node.tagName === 'div' &&
      Array.isArray(node.properties.className) &&
      node.properties.className.includes('table-box')
    )
      return node;
    if (node.tagName === 'table') {
      labelCells(node);
      return { type: 'element', tagName: 'div', properties: { className: ['table-box'] }, children: [node] };
    }
    node.children = transform(node.children as ElementContent[]) as Element['children'];
    return node;
  });
}

/** The page's main content with its tables made stackable (the nodes are changed in place). */
export function stackableTables(main: ElementContent[]): ElementContent[] {
  return transform(main);
}
