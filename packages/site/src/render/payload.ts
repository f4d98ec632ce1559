/** The layout table of a payload struct: byte offsets, sizes, types, bitfields, and a diagram. */
import { elementShape, isPrimitive, type Field, type Payload, type StructLookup } from '@vhost-user/generator';
import type { Element } from 'hast';
import { h } from 'hastscript';
import { byteDiagram, type DiagramField } from './byte-diagram.js';
import { constant, divergenceList, enumAnchor, payloadAnchor, text, type Child } from './common.js';

export interface PayloadRenderOptions {
  lookup: StructLookup;
  /** The element id, when this is the payload's first table in the version. */
  id?: string;
  /** Whether an enum or struct has a table to link to. */
  hasEnum: (name: string) => boolean;
  hasStruct: (name: string) => boolean;
  /** The value table of an enum no marker shows, to print under the payload; else undefined. */
  inlineEnum?: (name: string) => Element | undefined;
}

function countText(field: Field): string {
  const count = field.count;
  if (count === undefined) return '';
  if (typeof count === 'number') return `[${count}]`;
  if ('field' in count) return `[${count.field}] (at most ${count.max})`;
  return `[${count.param}] (at most ${count.max})`;
}

function fieldSize(field: Field, lookup: StructLookup): string {
  const shape = elementShape(field.type, lookup);
  if (!shape) return '?';
  if (field.count === undefined) return String(shape.size);
  if (typeof field.count === 'number') return String(shape.size * field.count);
  const by = 'field' in field.count ? field.count.field : field.count.param;
  return `${by} × ${shape.size}`;
}

function typeCell(field: Field, options: PayloadRenderOptions): Child[] {
  const type =
    isPrimitive(field.type) || !options.hasStruct(field.type)
      ? h('code', field.type)
      : h('a', { href: `#${payloadAnchor(field.type)}` }, h('code', field.type));
  const cells: Child[] = [type, countText(field)];
  if (field.bigEndian) cells.push(' big-endian');
  return cells;
}

function describe(field: Field, options: PayloadRenderOptions): Child[] {
  const parts: Child[] = text(field.doc);
  if (field.padding) parts.push(' ', h('span', { className: ['note'] }, 'Padding: sent as zero, ignored on receipt.'));
  if (field.enum) {
    const name = options.hasEnum(field.enum)
      ? h('a', { href: `#${enumAnchor(field.enum)}` }, field.enum)
      : h('span', field.enum);
    parts.push(' ', h('span', { className: ['note'] }, ['Values: ', name, '.']));
  }
  if (field.cName) parts.push(' ', h('span', { className: ['note'] }, ['C name: ', h('code', field.cName), '.']));
  return parts;
}

function bitsTable(caption: string, bits: NonNullable<Field['bits']>): Element {
  return h('table', { className: ['spec-table', 'bits'] }, [
    h('caption', caption),
    h(
      'thead',
      h(
        'tr',
        ['Bits', 'Name', 'Description'].map((label) => h('th', { scope: 'col' }, label)),
      ),
    ),
    h(
      'tbody',
      bits.map((b) =>
        h('tr', { className: b.reserved ? ['reserved'] : undefined }, [
          h('td', b.width === 1 ? String(b.lsb) : `${b.lsb + b.width - 1}:${b.lsb}`),
          h('td', h('code', b.name)),
          h('td', b.doc ? text(b.doc) : b.reserved ? 'Reserved.' : ''),
        ]),
      ),
    ),
  ]);
}

function fieldRows(fields: Field[], options: PayloadRenderOptions, extension: boolean): Element[] {
  const rows: Element[] = [];
  for (const field of fields) {
    rows.push(
      h(
        'tr',
        {
          className:
            [field.padding ? 'padding' : '', extension ? 'extension' : ''].filter(Boolean).join(' ') || undefined,
        },
        [
          h('td', { className: ['num'] }, String(field.offset)),
          h('td', { className: ['num'] }, fieldSize(field, options.lookup)),
          h('td', h('code', field.name)),
          h('td', typeCell(field, options)),
          h('td', describe(field, options)),
        ],
      ),
    );
    const nested: Element[] = [];
    if (field.bits) nested.push(bitsTable(`Bits of ${field.name}`, field.bits));
    for (const view of field.views ?? [])
      nested.push(bitsTable(`${field.name} as ${view.name}${view.when ? ` (${view.when})` : ''}`, view.bits));
    if (nested.length > 0) rows.push(h('tr', { className: ['bitfields'] }, h('td', { colSpan: 5 }, nested)));
  }
  return rows;
}

function diagramFields(payload: Payload, lookup: StructLookup): DiagramField[] {
  const toDiagram = (field: Field, extension: boolean): DiagramField => {
    const shape = elementShape(field.type, lookup);
    const variable = typeof field.count === 'object';
    const count = typeof field.count === 'number' ? field.count : 1;
    return {
      name: field.name,
      offset: field.offset,
      size: variable || !shape ? undefined : shape.size * count,
      padding: field.padding,
      extension,
    };
  };
  return [
    ...payload.fields.map((f) => toDiagram(f, false)),
    ...(payload.extension?.fields ?? []).map((f) => toDiagram(f, true)),
  ];
}

function sizeText(payload: Payload): string {
  if (payload.opaque) return 'opaque bytes';
  if (payload.size === null) return payload.maxSize ? `variable, at most ${payload.maxSize} bytes` : 'variable size';
  return `${payload.size} bytes`;
}

export function renderPayload(payload: Payload, options: PayloadRenderOptions): Element {
  const head: Child[] = [
    h('span', { className: ['ref-kind'] }, 'Payload'),
    ' ',
    h('code', { className: ['ref-name'] }, payload.name),
    ` — ${payload.title} (${sizeText(payload)}${payload.cName ? `, C: ` : ''}`,
  ];
  if (payload.cName) head.push(h('code', payload.cName));
  head.push(`, since ${payload.since})`);

  const body: Element[] = fieldRows(payload.fields, options, false);
  if (payload.extension) {
    body.push(
      h(
        'tr',
        { className: ['extension-head'] },
        h('th', { colSpan: 5, scope: 'rowgroup' }, [
          'When ',
          constant(payload.extension.protocolFeature),
          ` is negotiated, the struct grows to ${payload.extension.size} bytes:`,
        ]),
      ),
      ...fieldRows(payload.extension.fields, options, true),
    );
  }

  return h('figure', { className: ['ref', 'ref-payload'], id: options.id, dataName: payload.name }, [
    h('figcaption', head),
    h('p', text(payload.doc)),
    payload.fields.length > 0 ? byteDiagram(payload.name, diagramFields(payload, options.lookup)) : null,
    payload.fields.length > 0
      ? h('table', { className: ['spec-table', 'layout'] }, [
          h(
            'thead',
            h(
              'tr',
              ['Offset', 'Size', 'Field', 'Type', 'Description'].map((label) => h('th', { scope: 'col' }, label)),
            ),
          ),
          h('tbody', body),
        ])
      : null,
    ...[...payload.fields, ...(payload.extension?.fields ?? [])].flatMap((f) =>
      f.enum && options.inlineEnum ? [options.inlineEnum(f.enum)] : [],
    ),
    divergenceList(payload.divergences),
  ]);
}
