/**
 * Emits generated/c/vhost_user.h: request ids, feature bits, flags and constants, and every
 * payload as a C struct with _Static_assert on its size and each field offset, so a C compiler's
 * own layout rules check the offsets written in spec/.
 */
import { isPrimitive } from '../layout.js';
import type { SpecModel } from '../load.js';
import type { BitRange, Field, Payload } from '../schema.js';
import { generatedHeader, screamingSnake, snakeCase } from './names.js';

const C_TYPE: Record<string, string> = {
  u8: 'uint8_t',
  u16: 'uint16_t',
  u32: 'uint32_t',
  u64: 'uint64_t',
  i64: 'int64_t',
};

const structName = (name: string) => `vhost_user_${snakeCase(name)}`;

function comment(text: string): string {
  return `/* ${text.replace(/\*\//g, '* /').replace(/\s+/g, ' ').trim()} */`;
}

function fieldDecl(f: Field): string {
  const type = isPrimitive(f.type) ? C_TYPE[f.type] : `struct ${structName(f.type)}`;
  const dim = f.count === undefined ? '' : typeof f.count === 'number' ? `[${f.count}]` : '[]';
  return `    ${type} ${f.name}${dim}; ${comment(`${f.doc} (offset ${f.offset})`)}`;
}

function bitMacros(prefix: string, bits: BitRange[], wide: boolean): string[] {
  return bits
    .filter((b) => !b.reserved)
    .flatMap((b) => {
      const mask = ((1n << BigInt(b.width)) - 1n) << BigInt(b.lsb);
      const name = `${prefix}_${b.name.toUpperCase()}`;
      return [`#define ${name}_SHIFT ${b.lsb}`, `#define ${name}_MASK 0x${mask.toString(16)}${wide ? 'ULL' : 'U'}`];
    });
}

function emitStruct(p: Payload, fields: Field[], name: string, size: number | null, out: string[]): void {
  const c = `struct ${name}`;
  out.push(comment(`${p.title}: ${p.doc}`), `${c} {`, ...fields.map(fieldDecl), '};');
  const fixed = size ?? fields[fields.length - 1]?.offset ?? 0;
  out.push(`_Static_assert(sizeof(${c}) == ${fixed}, "${name}: size");`);
  for (const f of fields)
    out.push(`_Static_assert(offsetof(${c}, ${f.name}) == ${f.offset}, "${name}.${f.name}: offset");`);
  for (const f of fields) {
    const prefix = `${screamingSnake(p.name)}_${f.name.toUpperCase()}`;
    if (f.bits) out.push(...bitMacros(prefix, f.bits, f.type === 'u64'));
    for (const v of f.views ?? [])
      out.push(...bitMacros(`${prefix}_${v.name.toUpperCase()}`, v.bits, f.type === 'u64'));
  }
  out.push('');
}

/** Structs in dependency order (nested before containing). */
function ordered(structs: Payload[]): Payload[] {
  const byName = new Map(structs.map((s) => [s.name, s]));
  const out: Payload[] = [];
  const done = new Set<string>();
  const visit = (s: Payload) => {
    if (done.has(s.name)) return;
    done.add(s.name);
    for (const f of s.fields) if (!isPrimitive(f.type) && byName.has(f.type)) visit(byName.get(f.type) as Payload);
    out.push(s);
  };
  structs.forEach(visit);
  return out;
}

export function emitC(model: SpecModel): string {
  const out: string[] = [
    generatedHeader(comment, ['spec/'], 'vhost-user protocol constants and payload layouts for C.'),
    '#ifndef VHOST_USER_SPEC_H',
    '#define VHOST_USER_SPEC_H',
    '',
    '#include <stddef.h>',
    '#include <stdint.h>',
    '',
    comment(
      `Spec version ${model.meta.version}. Every integer is in the byte order of the host (little-endian in practice).`,
    ),
    '',
  ];
  for (const channel of ['frontend', 'backend'] as const) {
    out.push(
      comment(channel === 'frontend' ? 'Front-end requests (main socket).' : 'Back-end requests (back-end channel).'),
    );
    out.push(`enum vhost_user_${channel}_request {`);
    for (const m of model.messages.filter((x) => x.channel === channel)) out.push(`    ${m.name} = ${m.id},`);
    out.push('};', '');
  }
  out.push(comment('Protocol feature bit numbers.'));
  for (const b of model.protocolFeatures) out.push(`#define ${b.name} ${b.bit}`);
  out.push('', comment('Virtio feature bit numbers vhost-user uses.'));
  for (const b of model.virtioFeatures) out.push(`#define ${b.name} ${b.bit}`);
  out.push(
    '',
    comment('Header.'),
    `#define VHOST_USER_HEADER_SIZE ${model.header.size}`,
    `#define VHOST_USER_VERSION_MASK 0x${model.header.version.mask.toString(16)}U`,
  );
  for (const f of model.header.flags) out.push(`#define ${f.name} 0x${f.mask.toString(16)}U`);
  out.push(`#define VHOST_USER_RESERVED_FLAGS_MASK 0x${(model.header.reservedMask >>> 0).toString(16)}U`, '');
  out.push(comment('Constants.'));
  for (const c of model.constants) out.push(`#define ${c.name} 0x${c.value.toString(16)}U`);
  out.push('', comment('Enum and flag values.'));
  for (const e of model.enums) for (const v of e.values) out.push(`#define ${v.name} 0x${v.value.toString(16)}U`);
  const ringConstants = new Map<string, number>();
  for (const ring of [model.rings.split, model.rings.packed]) {
    for (const c of ring.constants) {
      const known = ringConstants.get(c.name);
      if (known !== undefined && known !== c.value) throw new Error(`ring constant ${c.name} differs between layouts`);
      ringConstants.set(c.name, c.value);
    }
  }
  out.push('', comment('Ring layout constants.'));
  for (const [name, value] of ringConstants) out.push(`#define ${name} 0x${value.toString(16)}U`);
  out.push('');

  const structs = [...model.payloads, ...model.rings.split.structs, ...model.rings.packed.structs].filter(
    (p) => !p.opaque,
  );
  for (const p of ordered(structs)) {
    emitStruct(p, p.fields, structName(p.name), p.size, out);
    if (p.extension && p.size !== null)
      emitStruct(p, [...p.fields, ...p.extension.fields], `${structName(p.name)}_ext`, p.extension.size, out);
  }
  out.push('#endif /* VHOST_USER_SPEC_H */', '');
  return out.join('\n');
}
