/** numbers.html: every message by channel and id, every feature bit by number and mask. */
import type { Element, ElementContent } from 'hast';
import { h } from 'hastscript';
import { bitMask, hex } from '../render/common.js';
import type { SpecView } from '../spec-view.js';
import type { VersionInfo } from './site-types.js';

type PageOf = (anchor: string) => string | undefined;

function nameLink(name: string, pageOf: PageOf): Element {
  const page = pageOf(name);
  return page ? h('a', { href: `${page}#${encodeURIComponent(name)}` }, h('code', name)) : h('code', name);
}

function formerNames(aliases: string[] | undefined): ElementContent[] {
  return (aliases ?? []).flatMap((a, i): ElementContent[] => [
    ...(i ? [{ type: 'text' as const, value: ', ' }] : []),
    h('code', a),
  ]);
}

function table(caption: string, head: string[], rows: ElementContent[][]): Element {
  return h('table', { className: ['spec-table', 'number-index'] }, [
    h('caption', caption),
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
          cells.map((cell) => h('td', cell)),
        ),
      ),
    ),
  ]);
}

export function numbersMain(version: VersionInfo, spec: SpecView, pageOf: PageOf): ElementContent[] {
  const byId = <T extends { id: number }>(items: T[]): T[] => [...items].sort((a, b) => a.id - b.id);
  const byBit = <T extends { bit: number }>(items: T[]): T[] => [...items].sort((a, b) => a.bit - b.bit);
  const messages = (channel: 'frontend' | 'backend', caption: string, id: string): ElementContent[] => [
    h('h2', { id }, caption),
    table(
      caption,
      ['Id', 'Hex', 'Name', 'Former names'],
      byId(spec.messages.filter((m) => m.channel === channel)).map((m) => [
        String(m.id),
        h('code', hex(m.id, 2)),
        nameLink(m.name, pageOf),
        formerNames(m.aliases),
      ]) as ElementContent[][],
    ),
  ];
  const bits = (
    items: { bit: number; name: string; aliases?: string[] }[],
    caption: string,
    id: string,
  ): ElementContent[] => [
    h('h2', { id }, caption),
    table(
      caption,
      ['Bit', 'Mask', 'Name', 'Former names'],
      byBit(items).map((b) => [
        String(b.bit),
        h('code', bitMask(b.bit)),
        nameLink(b.name, pageOf),
        formerNames(b.aliases),
      ]) as ElementContent[][],
    ),
  ];
  return [
    h('h1', ['Messages and bits by number ', h('span', { className: ['version-badge'] }, version.label)]),
    h(
      'p',
      'Every message of each channel by its request id, and every feature bit by its number and mask. The search box finds them the same way: type an id (44 or 0x2c), a mask (0x00008000) or a former name.',
    ),
    ...messages('frontend', 'Front-end requests (main socket)', 'frontend-ids'),
    ...messages('backend', 'Back-end requests (back-end channel)', 'backend-ids'),
    ...bits(spec.protocolFeatures, 'Protocol feature bits', 'protocol-bits'),
    ...bits(spec.virtioFeatures, 'Virtio feature bits', 'virtio-bits'),
  ];
}
