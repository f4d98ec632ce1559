/** The summary tables that `::table{of=...}` markers pull into the text. */
import {
  isPrimitive,
  PRIMITIVE_SIZE,
  type ChannelMessage,
  type Divergence,
  type ReplyRule,
} from '@vhost-user/generator';
import type { Element } from 'hast';
import { h } from 'hastscript';
import type { SpecView } from '../spec-view.js';
import {
  bitMask,
  constant,
  divergenceList,
  hex,
  joined,
  payloadAnchor,
  status,
  table,
  text,
  type Child,
} from './common.js';
import { conditionText } from './condition.js';
import { levelBadge } from './ring.js';
import { byteDiagram } from './byte-diagram.js';

export const TABLE_KINDS = [
  'frontend-messages',
  'backend-messages',
  'protocol-features',
  'virtio-features',
  'constants',
  'registry',
  'preconditions',
  'ring-states',
  'header',
  'divergences',
] as const;
export type TableKind = (typeof TABLE_KINDS)[number];

function payloadCell(name: string | null, hasStruct: (name: string) => boolean): Child {
  if (!name) return '—';
  return hasStruct(name) ? h('a', { href: `#${payloadAnchor(name)}` }, h('code', name)) : h('code', name);
}

function replyCell(reply: ReplyRule, hasStruct: (name: string) => boolean): Child[] {
  switch (reply.kind) {
    case 'always':
      return [payloadCell(reply.payload, hasStruct)];
    case 'ack':
      return ['ack'];
    case 'conditional':
      return [payloadCell(reply.payload, hasStruct), ' (conditional)'];
    case 'none':
      return ['never'];
  }
}

function messageTable(messages: ChannelMessage[], hasStruct: (name: string) => boolean): Element {
  return table(
    'messages',
    ['Id', 'Message', 'Request', 'Reply', 'Gated by', 'Since', 'Status'],
    [...messages]
      .sort((a, b) => a.id - b.id)
      .map((m) => [
        String(m.id),
        constant(m.name),
        payloadCell(m.request, hasStruct),
        replyCell(m.reply, hasStruct),
        joined([...(m.gate.protocolFeatures ?? []), ...(m.gate.virtioFeatures ?? [])].map(constant)),
        m.since,
        status(m.status),
      ]),
  );
}

function headerTable(spec: SpecView): Element | null {
  const header = spec.header;
  if (!header) return null;
  return h('figure', { className: ['ref', 'ref-header'] }, [
    h('figcaption', [h('span', { className: ['ref-kind'] }, 'Header'), ` — ${header.size} bytes, ${header.byteOrder}`]),
    h('p', text(header.doc)),
    byteDiagram(
      'the message header',
      header.fields.map((f) => ({
        name: f.name,
        offset: f.offset,
        size: isPrimitive(f.type) ? PRIMITIVE_SIZE[f.type] : undefined,
      })),
    ),
    table(
      'layout',
      ['Offset', 'Field', 'Type', 'Description'],
      header.fields.map((f) => [String(f.offset), h('code', f.name), h('code', f.type), text(f.doc)]),
    ),
    table(
      'header-flags',
      ['Flag', 'Mask', 'Description'],
      [
        ['version', h('code', hex(header.version.mask)), `Protocol version; must be ${header.version.value}.`],
        ...header.flags.map((f) => [constant(f.name), h('code', hex(f.mask)), text(f.doc)]),
        ['reserved', h('code', hex(header.reservedMask)), 'Sent as zero.'],
      ],
      'Bits of flags',
    ),
    divergenceList(header.divergences),
  ]);
}

/** Every known divergence in one table, by item. */
function divergenceTable(spec: SpecView): Element {
  const rows: [Child, Divergence[]][] = [];
  const add = (name: Child, list: Divergence[] | undefined): void => {
    if (list?.length) rows.push([name, list]);
  };
  if (spec.header) add('message header', spec.header.divergences);
  for (const m of spec.messages) add(constant(m.name), m.divergences);
  for (const b of spec.protocolFeatures) add(constant(b.name), b.divergences);
  for (const p of spec.structs)
    add(
      payloadCell(p.name, () => true),
      p.divergences,
    );
  for (const e of spec.enums) add(h('code', e.name), e.divergences);
  return table(
    'divergences',
    ['Item', 'Implementations and what differs'],
    rows.map(([name, list]) => [name, divergenceList(list)]),
  );
}

export function renderTable(
  kind: TableKind,
  spec: SpecView,
  hasStruct: (name: string) => boolean,
  ringStates: () => Element | null,
): Element | null {
  switch (kind) {
    case 'frontend-messages':
      return messageTable(
        spec.messages.filter((m) => m.channel === 'frontend'),
        hasStruct,
      );
    case 'backend-messages':
      return messageTable(
        spec.messages.filter((m) => m.channel === 'backend'),
        hasStruct,
      );
    case 'protocol-features':
      return table(
        'features',
        ['Bit', 'Feature', 'Summary', 'Requires', 'Since', 'Status'],
        [...spec.protocolFeatures]
          .sort((a, b) => a.bit - b.bit)
          .map((b) => [
            String(b.bit),
            constant(b.name),
            text(b.summary),
            joined((b.requires ?? []).map(constant)),
            b.since,
            status(b.status),
          ]),
      );
    case 'virtio-features':
      return table(
        'features',
        ['Bit', 'Mask', 'Feature', 'Scope', 'Summary', 'Since'],
        [...spec.virtioFeatures]
          .sort((a, b) => a.bit - b.bit)
          .map((b) => [String(b.bit), h('code', bitMask(b.bit)), constant(b.name), b.scope, text(b.summary), b.since]),
      );
    case 'constants':
      return table(
        'constants',
        ['Name', 'Value', 'Since', 'Description'],
        spec.constants.map((c) => [h('code', c.name), String(c.value), c.since, text(c.doc)]),
      );
    case 'registry':
      return table(
        'registry',
        ['Space', 'Number', 'Name', 'Status', 'Note', 'Since'],
        spec.registry.map((r) => [
          r.space,
          String(r.number),
          h('code', r.name),
          status(r.status),
          text(r.note),
          r.since,
        ]),
      );
    case 'preconditions':
      return table(
        'preconditions',
        ['Rule', 'Level', 'Binds', 'Messages', 'Condition', 'Summary', 'Source', 'Since'],
        (spec.rules?.preconditions ?? []).map((p) => [
          h('code', p.id),
          levelBadge(p.level),
          p.actor === 'frontend' ? 'front-end' : 'back-end',
          joined(p.messages.map(constant)),
          [
            p.kind === 'send-only-when' ? 'sent only ' : p.kind === 'never-when' ? 'never sent ' : 'valid before ',
            // "after X" carries its own connective; a feature condition needs "when".
            ...(p.condition && p.kind !== 'allowed-before' && !('receivedBefore' in p.condition) ? ['when '] : []),
            ...(p.condition ? conditionText(p.condition) : []),
            ...(p.before ? [constant(p.before)] : []),
          ],
          text(p.summary),
          !p.provenance
            ? ''
            : p.provenance.source === 'upstream'
              ? `upstream (QEMU ${p.provenance.qemu})`
              : `clarification (upstream: ${p.provenance.upstreamLevel}): ${p.provenance.reason}`,
          p.since,
        ]),
      );
    case 'ring-states':
      return ringStates();
    case 'header':
      return headerTable(spec);
    case 'divergences':
      return divergenceTable(spec);
  }
}
