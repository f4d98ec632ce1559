/** Small hast builders shared by the reference blocks and tables. */
import type { Divergence } from '@vhost-user/generator';
import type { Element, ElementContent } from 'hast';
import { h } from 'hastscript';

export type Child = ElementContent | string | null | undefined;

/** A protocol constant, as inline code; the mention linker turns it into a link. */
export function constant(name: string): Element {
  return h('code', name);
}

export function status(value: string): Element {
  return h('span', { className: ['status', `status-${value}`] }, value);
}

/** Hex with at least `digits` digits: 0x0001. */
export function hex(value: number | bigint, digits = 1): string {
  return `0x${value.toString(16).padStart(digits, '0')}`;
}

/** The mask of feature bit `bit` (up to 63, so as a bigint). */
export function bitMask(bit: number): string {
  return hex(1n << BigInt(bit), bit < 32 ? 8 : 16);
}

/** YAML prose: `name` spans become inline code, the rest stays text. */
export function text(value: string): Child[] {
  return value
    .split(/(`[^`\n]+`)/)
    .filter(Boolean)
    .map((part) =>
      part.startsWith('`') && part.endsWith('`') && part.length > 2 ? h('code', part.slice(1, -1)) : part,
    );
}

/** A comma-separated list of nodes, or a dash when empty. */
export function joined(items: Element[], empty = '—'): Child[] {
  if (items.length === 0) return [empty];
  return items.flatMap((item, i) => (i === 0 ? [item] : [', ', item]));
}

/** A table with a header row; cells are nodes or strings. */
export function table(className: string, head: string[], rows: (Child | Child[])[][], caption?: Child): Element {
  return h('table', { className: ['spec-table', className] }, [
    caption ? h('caption', caption) : null,
    h(
      'thead',
      h(
        'tr',
        head.map((label) => h('th', { scope: 'col' }, label)),
      ),
    ),
    h(
      'tbody',
      rows.map((cells) =>
        h(
          'tr',
          cells.map((cell) => h('td', cell ?? '')),
        ),
      ),
    ),
  ]);
}

/** A definition list from label/value pairs; pairs without a value are left out. */
export function facts(className: string, pairs: [string, Child | Child[]][]): Element {
  const items: Element[] = [];
  for (const [label, value] of pairs) {
    if (value === null || value === undefined) continue;
    items.push(h('dt', label), h('dd', value));
  }
  return h('dl', { className: ['facts', className] }, items);
}

export function divergenceList(divergences: Divergence[] | undefined): Element | null {
  if (!divergences || divergences.length === 0) return null;
  return h(
    'ul',
    { className: ['divergences'] },
    divergences.map((d) =>
      h('li', [
        h('span', { className: ['impls'] }, d.implementations.join(', ')),
        ': ',
        ...text(d.summary),
        ' ',
        ...d.links.flatMap((url, i) => [
          i === 0 ? '' : ' ',
          h('a', { href: url, className: ['external'], rel: 'external' }, `[${i + 1}]`),
        ]),
      ]),
    ),
  );
}

/** The id of the reference table of a payload, enum or ring layout (one per version). */
export function payloadAnchor(name: string): string {
  return `payload-${name}`;
}
export function enumAnchor(name: string): string {
  return `enum-${name}`;
}
export function ringAnchor(layout: string): string {
  return `ring-${layout}`;
}
