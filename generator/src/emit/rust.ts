/**
 * Emits generated/rust/vhost_user.rs: request ids, feature bits, flags and constants as
 * `pub const`, and every payload as a `#[repr(C)]` struct with compile-time assertions on its size
 * and each field offset (rustc's layout rules check spec/). Needs no crates.
 */
import { isPrimitive } from '../layout.js';
import type { SpecModel } from '../load.js';
import type { Field, Payload } from '../schema.js';
import { generatedHeader, screamingSnake, shortMessageName, shortProtocolFeatureName } from './names.js';

const RUST_TYPE: Record<string, string> = { u8: 'u8', u16: 'u16', u32: 'u32', u64: 'u64', i64: 'i64' };

function doc(text: string, indent = ''): string {
  return text
    .replace(/\s+/g, ' ')
    .trim()
    .split(/(?<=\.) /)
    .map((line) => `${indent}/// ${line}`)
    .join('\n');
}

function rustField(f: Field): string {
  const base = isPrimitive(f.type) ? RUST_TYPE[f.type] : f.type;
  const type = f.count === undefined ? base : typeof f.count === 'number' ? `[${base}; ${f.count}]` : `[${base}; 0]`;
  const name = f.name === 'type' ? 'r#type' : f.name;
  return `${doc(`${f.doc} Offset ${f.offset}${typeof f.count === 'object' ? '; a variable number of elements follow the struct' : ''}.`, '    ')}\n    pub ${name}: ${type},`;
}

function emitStruct(p: Payload, fields: Field[], name: string, size: number | null, out: string[]): void {
  out.push(
    doc(`${p.title}. ${p.doc}`),
    '#[repr(C)]',
    '#[derive(Clone, Copy, Debug)]',
    `pub struct ${name} {`,
    ...fields.map(rustField),
    '}',
  );
  const fixed = size ?? fields[fields.length - 1]?.offset ?? 0;
  out.push(`const _: () = assert!(core::mem::size_of::<${name}>() == ${fixed});`);
  for (const f of fields)
    out.push(
      `const _: () = assert!(core::mem::offset_of!(${name}, ${f.name === 'type' ? 'r#type' : f.name}) == ${f.offset});`,
    );
  out.push('');
}

function constModule(
  name: string,
  comment: string,
  entries: { name: string; value: string; type: string; doc: string }[],
): string[] {
  return [
    doc(comment),
    `pub mod ${name} {`,
    ...entries.map((e) => `${doc(e.doc, '    ')}\n    pub const ${e.name}: ${e.type} = ${e.value};`),
    '}',
    '',
  ];
}

export function emitRust(model: SpecModel): string {
  const out: string[] = [
    generatedHeader((l) => `// ${l}`, ['spec/'], 'vhost-user protocol constants and payload layouts for Rust.'),
    '',
    '#![allow(dead_code)]',
    '',
  ];
  out.push(`/// Spec version of this file.\npub const SPEC_VERSION: &str = "${model.meta.version}";`, '');
  for (const channel of ['frontend', 'backend'] as const) {
    out.push(
      ...constModule(
        `${channel}_request`,
        channel === 'frontend' ? 'Front-end request ids (main socket).' : 'Back-end request ids (back-end channel).',
        model.messages
          .filter((m) => m.channel === channel)
          .map((m) => ({
            name: shortMessageName(m.name, channel),
            value: String(m.id),
            type: 'u32',
            doc: `${m.name}: ${m.summary}`,
          })),
      ),
    );
  }
  out.push(
    ...constModule(
      'protocol_feature',
      'Protocol feature bit numbers.',
      model.protocolFeatures.map((b) => ({
        name: shortProtocolFeatureName(b.name),
        value: String(b.bit),
        type: 'u32',
        doc: `${b.name}: ${b.summary}`,
      })),
    ),
  );
  out.push(
    ...constModule(
      'virtio_feature',
      'Virtio feature bit numbers vhost-user uses.',
      model.virtioFeatures.map((b) => ({ name: b.name, value: String(b.bit), type: 'u32', doc: b.summary })),
    ),
  );
  const h = model.header;
  out.push(
    ...constModule('header', 'The message header.', [
      { name: 'SIZE', value: String(h.size), type: 'usize', doc: 'Bytes of the header.' },
      {
        name: 'VERSION_MASK',
        value: `0x${h.version.mask.toString(16)}`,
        type: 'u32',
        doc: 'Flag bits that carry the version.',
      },
      { name: 'VERSION', value: String(h.version.value), type: 'u32', doc: 'The only version.' },
      ...h.flags.map((f) => ({
        name: f.name.replace(/^VHOST_USER_/, ''),
        value: `0x${f.mask.toString(16)}`,
        type: 'u32',
        doc: f.doc,
      })),
      {
        name: 'RESERVED_MASK',
        value: `0x${(h.reservedMask >>> 0).toString(16)}`,
        type: 'u32',
        doc: 'Flag bits that must be zero.',
      },
    ]),
  );
  out.push(
    ...constModule(
      'constants',
      'Other named numbers.',
      model.constants.map((c) => ({ name: c.name, value: `0x${c.value.toString(16)}`, type: 'u64', doc: c.doc })),
    ),
  );
  for (const e of model.enums) {
    out.push(
      ...constModule(
        `${screamingSnake(e.name).toLowerCase()}`,
        `${e.title}.`,
        e.values.map((v) => ({ name: v.name, value: `0x${v.value.toString(16)}`, type: 'u32', doc: v.doc })),
      ),
    );
  }
  for (const ring of [model.rings.split, model.rings.packed]) {
    out.push(
      ...constModule(
        `${ring.ring}_ring`,
        `Constants of the ${ring.ring} ring.`,
        ring.constants.map((c) => ({ name: c.name, value: String(c.value), type: 'u32', doc: c.doc })),
      ),
    );
  }
  for (const p of [...model.payloads, ...model.rings.split.structs, ...model.rings.packed.structs].filter(
    (x) => !x.opaque,
  )) {
    emitStruct(p, p.fields, p.name, p.size, out);
    if (p.extension && p.size !== null)
      emitStruct(p, [...p.fields, ...p.extension.fields], `${p.name}Ext`, p.extension.size, out);
  }
  return out.join('\n');
}
