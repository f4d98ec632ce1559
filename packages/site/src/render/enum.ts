/** The value table of an enum or flag set. */
import type { EnumDef } from '@vhost-user/generator';
import type { Element } from 'hast';
import { h } from 'hastscript';
import { divergenceList, hex, table, text } from './common.js';

export function renderEnum(def: EnumDef, id: string | undefined): Element {
  const kind = def.kind === 'flags' ? 'Flags (combine with OR)' : 'Values';
  return h('figure', { className: ['ref', 'ref-enum'], id, dataName: def.name }, [
    h('figcaption', [
      h('span', { className: ['ref-kind'] }, kind),
      ' ',
      h('code', { className: ['ref-name'] }, def.name),
      ` — ${def.title} (since ${def.since})`,
    ]),
    def.doc ? h('p', text(def.doc)) : null,
    table(
      'enum',
      ['Name', 'Value', 'Description'],
      def.values.map((v) => [
        h('code', v.name),
        h('code', def.kind === 'flags' ? hex(v.value) : String(v.value)),
        text(v.doc),
      ]),
    ),
    divergenceList(def.divergences),
  ]);
}
