/** Payload structs, ring structs and enums: field layouts, sizes, bit ranges, enum values. */
import { isPrimitive, structsOf } from '../layout.js';
import type { PathSegment, SourceLocation } from '../yaml-file.js';
import type { BitRange, BitView, Count, EnumDef, Field, Payload } from '../schema.js';
import { DiffCollector, same } from './collect.js';
import { diffDivergences } from './messages.js';

/** Fields of one struct, or of its extension, with where they are written. */
interface FieldList {
  fields: Field[];
  base: PathSegment[];
}

interface StructContext {
  c: DiffCollector;
  old: Payload;
  now: Payload;
  /** Set once a change that breaks the layout was reported for this struct. */
  broken: boolean;
}

function describeCount(count: Count | undefined): string {
  if (count === undefined) return '1';
  if (typeof count === 'number') return String(count);
  return 'field' in count ? `${count.field} (at most ${count.max})` : `${count.param} (at most ${count.max})`;
}

function describeBits(r: BitRange): string {
  return r.width === 1 ? `bit ${r.lsb}` : `bits ${r.lsb}..${r.lsb + r.width - 1}`;
}

function typeChange(a: string, b: string): string {
  if (isPrimitive(a) && isPrimitive(b)) {
    const width = (t: string) => Number(t.slice(1));
    if (width(a) !== width(b)) return `width ${a} -> ${b}`;
    return `signedness ${a} -> ${b}`;
  }
  return `type ${a} -> ${b}`;
}

function report(
  ctx: StructContext,
  input: Omit<Parameters<DiffCollector['add']>[0], 'entity' | 'name'> & { name?: string },
): void {
  if (input.rule) ctx.broken = true;
  ctx.c.add({ entity: 'payload', name: ctx.now.name, ...input });
}

/** Bit ranges of an integer: released named ranges stay put; new ones come out of reserved bits. */
function compareBits(
  ctx: StructContext,
  label: string,
  path: string,
  before: BitRange[] | undefined,
  after: BitRange[] | undefined,
  loc: SourceLocation,
  fromLoc: SourceLocation,
): void {
  const a = before ?? [];
  const b = after ?? [];
  if (same(a, b)) return;
  const matched = new Set<BitRange>();
  let reworded = false;
  for (const old of a.filter((r) => !r.reserved)) {
    let now = b.find((r) => r.name === old.name);
    if (!now) {
      now = b.find(
        (r) => !r.reserved && !a.some((x) => x.name === r.name) && r.lsb === old.lsb && r.width === old.width,
      );
      if (now) {
        report(ctx, {
          kind: 'changed',
          path: `${path}.${old.name}`,
          before: old.name,
          after: now.name,
          summary: `${label}: bit range ${old.name} renamed to ${now.name}`,
          rule: 'generated-name-changed',
          loc,
        });
      } else {
        report(ctx, {
          kind: 'removed',
          path: `${path}.${old.name}`,
          before: old,
          summary: `${label}: bit range ${old.name} (${describeBits(old)}) removed`,
          rule: 'bitfield-layout-changed',
          loc: fromLoc,
        });
        continue;
      }
    }
    matched.add(now);
    if (now.lsb !== old.lsb || now.width !== old.width || now.reserved) {
      const after = now.reserved ? 'reserved' : describeBits(now);
      report(ctx, {
        kind: 'changed',
        path: `${path}.${old.name}`,
        before: describeBits(old),
        after,
        summary: `${label}: ${old.name} ${describeBits(old)} -> ${after}`,
        rule: 'bitfield-layout-changed',
        loc,
      });
    } else if (now.doc !== old.doc) {
      reworded = true;
    }
  }
  const reserved = a.filter((r) => r.reserved);
  const inReserved = (r: BitRange) =>
    a.length === 0 || reserved.some((x) => r.lsb >= x.lsb && r.lsb + r.width <= x.lsb + x.width);
  for (const now of b.filter((r) => !r.reserved && !matched.has(r))) {
    if (inReserved(now)) {
      report(ctx, {
        kind: 'added',
        path: `${path}.${now.name}`,
        after: now,
        summary: `${label}: added ${now.name} (${describeBits(now)}) ${a.length === 0 ? 'as the first named bits' : 'in reserved bits'}`,
        loc,
      });
    } else {
      report(ctx, {
        kind: 'added',
        path: `${path}.${now.name}`,
        after: now,
        summary: `${label}: ${now.name} takes ${describeBits(now)}, which were not reserved`,
        rule: 'bitfield-layout-changed',
        loc,
      });
    }
  }
  if (reworded) report(ctx, { kind: 'changed', path, summary: `${label}: bit descriptions reworded`, loc });
}

function compareViews(
  ctx: StructContext,
  label: string,
  path: string,
  before: BitView[] | undefined,
  after: BitView[] | undefined,
  loc: SourceLocation,
  fromLoc: SourceLocation,
): void {
  for (const old of before ?? []) {
    const now = (after ?? []).find((v) => v.name === old.name);
    if (!now) {
      report(ctx, {
        kind: 'removed',
        path: `${path}.${old.name}`,
        before: old.name,
        summary: `${label}: view ${old.name} removed`,
        rule: 'bitfield-layout-changed',
        loc: fromLoc,
      });
      continue;
    }
    compareBits(ctx, `${label} (view ${old.name})`, `${path}.${old.name}`, old.bits, now.bits, loc, fromLoc);
  }
  for (const now of after ?? []) {
    if (!(before ?? []).some((v) => v.name === now.name))
      report(ctx, {
        kind: 'added',
        path: `${path}.${now.name}`,
        after: now.name,
        summary: `${label}: added view ${now.name}`,
        loc,
      });
  }
}

function compareField(
  ctx: StructContext,
  old: Field,
  now: Field,
  loc: SourceLocation,
  fromLoc: SourceLocation,
  path: string,
): void {
  const label = `${ctx.now.name}.${now.name}`;
  const broke = (
    what: string,
    before: unknown,
    after: unknown,
    rule: 'field-changed' | 'array-bound-changed' | 'field-removed',
  ) =>
    report(ctx, {
      kind: 'changed',
      path: `${path}.${what}`,
      before,
      after,
      summary: `${label}: ${what} ${String(before ?? 'none')} -> ${String(after ?? 'none')}`,
      rule,
      loc,
    });
  if (old.type !== now.type)
    report(ctx, {
      kind: 'changed',
      path: `${path}.type`,
      before: old.type,
      after: now.type,
      summary: `${label}: ${typeChange(old.type, now.type)}`,
      rule: 'field-changed',
      loc,
    });
  if (old.offset !== now.offset) broke('offset', old.offset, now.offset, 'field-changed');
  if (!same(old.count ?? null, now.count ?? null)) {
    report(ctx, {
      kind: 'changed',
      path: `${path}.count`,
      before: old.count,
      after: now.count,
      summary: `${label}: count ${describeCount(old.count)} -> ${describeCount(now.count)}`,
      rule: 'array-bound-changed',
      loc,
    });
  }
  if ((old.enum ?? null) !== (now.enum ?? null)) broke('enum', old.enum, now.enum, 'field-changed');
  if (Boolean(old.bigEndian) !== Boolean(now.bigEndian))
    broke(
      'byte order',
      old.bigEndian ? 'big-endian' : 'message order',
      now.bigEndian ? 'big-endian' : 'message order',
      'field-changed',
    );
  if (!old.padding && now.padding) {
    report(ctx, {
      kind: 'changed',
      path: `${path}.padding`,
      before: false,
      after: true,
      summary: `${label} turned into padding: receivers ignore what senders still write`,
      rule: 'field-removed',
      loc,
    });
  } else if (old.padding && !now.padding) {
    report(ctx, {
      kind: 'changed',
      path: `${path}.padding`,
      before: true,
      after: false,
      summary: `${label}: padding given a meaning`,
      loc,
    });
  }
  compareBits(ctx, label, `${path}.bits`, old.bits, now.bits, loc, fromLoc);
  compareViews(ctx, label, `${path}.views`, old.views, now.views, loc, fromLoc);
  if (old.doc !== now.doc || old.cName !== now.cName)
    report(ctx, { kind: 'changed', path: `${path}.doc`, summary: `${label}: description reworded`, loc });
}

/** End of the bytes a list of fields covers, as far as fixed offsets tell. */
function endOf(fields: Field[], size: number | null): number {
  if (size !== null) return size;
  return Math.max(0, ...fields.map((f) => f.offset + 1));
}

function compareFieldLists(
  ctx: StructContext,
  before: FieldList,
  after: FieldList,
  oldEnd: number,
  where: (i: number) => SourceLocation,
  pathPrefix: string,
): boolean {
  let appended = false;
  const matched = new Set<Field>();
  const removedPadding: Field[] = [];
  for (const [oldIndex, old] of before.fields.entries()) {
    const exact = after.fields.find((f) => f.name === old.name);
    const now =
      exact ??
      after.fields.find(
        (f) =>
          !matched.has(f) &&
          !before.fields.some((x) => x.name === f.name) &&
          f.offset === old.offset &&
          f.type === old.type &&
          same(f.count ?? null, old.count ?? null),
      );
    if (!now) {
      if (old.padding) {
        removedPadding.push(old);
        report(ctx, {
          kind: 'removed',
          path: `${pathPrefix}${old.name}`,
          before: old,
          summary: `${ctx.old.name}.${old.name} (padding) removed`,
          loc: ctx.c.inFrom(ctx.old, ...before.base, oldIndex),
        });
      } else {
        report(ctx, {
          kind: 'removed',
          path: `${pathPrefix}${old.name}`,
          before: old,
          summary: `${ctx.old.name}.${old.name} (${old.type} at offset ${old.offset}) removed`,
          rule: 'field-removed',
          loc: ctx.c.inFrom(ctx.old, ...before.base, oldIndex),
        });
      }
      continue;
    }
    matched.add(now);
    const loc = where(after.fields.indexOf(now));
    if (!exact && !old.padding) {
      report(ctx, {
        kind: 'changed',
        path: `${pathPrefix}${old.name}.name`,
        before: old.name,
        after: now.name,
        summary: `${ctx.now.name}.${old.name} renamed to ${now.name}: the generated API spells it differently`,
        rule: 'generated-name-changed',
        loc,
      });
    }
    compareField(ctx, old, now, loc, ctx.c.inFrom(ctx.old, ...before.base, oldIndex), `${pathPrefix}${now.name}`);
  }
  for (const [index, now] of after.fields.entries()) {
    if (matched.has(now)) continue;
    const loc = where(index);
    if (now.offset >= oldEnd) {
      appended = true;
      report(ctx, {
        kind: 'added',
        path: `${pathPrefix}${now.name}`,
        after: now,
        summary: `${ctx.now.name}.${now.name} (${now.type} at offset ${now.offset}) appended`,
        loc,
      });
    } else if (removedPadding.some((p) => now.offset >= p.offset)) {
      report(ctx, {
        kind: 'added',
        path: `${pathPrefix}${now.name}`,
        after: now,
        summary: `${ctx.now.name}.${now.name} (${now.type} at offset ${now.offset}) takes former padding`,
        loc,
      });
    } else {
      report(ctx, {
        kind: 'added',
        path: `${pathPrefix}${now.name}`,
        after: now,
        summary: `${ctx.now.name}.${now.name} (${now.type} at offset ${now.offset}) inserted among released fields`,
        rule: 'field-changed',
        loc,
      });
    }
  }
  return appended;
}

function compareStruct(c: DiffCollector, old: Payload, now: Payload, nested: Set<string>): void {
  const ctx: StructContext = { c, old, now, broken: false };
  const fieldLoc = (base: PathSegment[]) => (i: number) => c.inTo(now, ...base, i);
  const appended = compareFieldLists(
    ctx,
    { fields: old.fields, base: ['fields'] },
    { fields: now.fields, base: ['fields'] },
    endOf(old.fields, old.size),
    fieldLoc(['fields']),
    'fields.',
  );

  if (old.size !== now.size) {
    const grewByAppending =
      appended && !ctx.broken && old.size !== null && now.size !== null && now.size > old.size && !nested.has(now.name);
    const why = nested.has(now.name) ? ` (${now.name} is nested in other structs, whose layout moves)` : '';
    report(ctx, {
      kind: 'changed',
      path: 'size',
      before: old.size,
      after: now.size,
      summary: `${now.name}: size ${old.size ?? 'variable'} -> ${now.size ?? 'variable'}${grewByAppending ? ' by appending fields' : why}`,
      ...(grewByAppending ? {} : { rule: 'struct-size-changed' as const }),
      loc: c.inTo(now, 'size'),
    });
  }
  if ((old.maxSize ?? null) !== (now.maxSize ?? null)) {
    report(ctx, {
      kind: 'changed',
      path: 'maxSize',
      before: old.maxSize,
      after: now.maxSize,
      summary: `${now.name}: largest size ${old.maxSize ?? 'none'} -> ${now.maxSize ?? 'none'}`,
      rule: 'array-bound-changed',
      loc: c.inTo(now, 'maxSize'),
    });
  }
  if (Boolean(old.opaque) !== Boolean(now.opaque)) {
    report(ctx, {
      kind: 'changed',
      path: 'opaque',
      before: Boolean(old.opaque),
      after: Boolean(now.opaque),
      summary: `${now.name}: ${now.opaque ? 'now opaque bytes' : 'opaque bytes given a layout'}`,
      rule: 'field-changed',
      loc: c.inTo(now, 'opaque'),
    });
  }
  compareExtension(ctx);
  if (old.title !== now.title || old.doc !== now.doc || old.cName !== now.cName) {
    report(ctx, {
      kind: 'changed',
      path: 'doc',
      summary: `${now.name}: title or description reworded`,
      loc: c.inTo(now),
    });
  }
  diffDivergences(c, 'payload', now.name, old.divergences, now.divergences, c.inTo(now));
}

function compareExtension(ctx: StructContext): void {
  const { c, old, now } = ctx;
  const a = old.extension;
  const b = now.extension;
  if (!a && !b) return;
  if (!a && b) {
    report(ctx, {
      kind: 'added',
      path: 'extension',
      after: b.protocolFeature,
      summary: `${now.name}: fields appended when ${b.protocolFeature} is negotiated (${now.size ?? '?'} -> ${b.size} bytes)`,
      loc: c.inTo(now, 'extension'),
    });
    return;
  }
  if (a && !b) {
    report(ctx, {
      kind: 'removed',
      path: 'extension',
      before: a.protocolFeature,
      summary: `${now.name}: the ${a.protocolFeature} extension was removed`,
      rule: 'field-removed',
      loc: c.inFrom(old, 'extension'),
    });
    return;
  }
  if (!a || !b) return;
  if (a.protocolFeature !== b.protocolFeature) {
    report(ctx, {
      kind: 'changed',
      path: 'extension.protocolFeature',
      before: a.protocolFeature,
      after: b.protocolFeature,
      summary: `${now.name}: extension gated by ${a.protocolFeature} -> ${b.protocolFeature}`,
      rule: 'gate-changed',
      loc: c.inTo(now, 'extension', 'protocolFeature'),
    });
  }
  const appended = compareFieldLists(
    ctx,
    { fields: a.fields, base: ['extension', 'fields'] },
    { fields: b.fields, base: ['extension', 'fields'] },
    a.size,
    (i) => c.inTo(now, 'extension', 'fields', i),
    'extension.fields.',
  );
  if (a.size !== b.size) {
    const ok = appended && b.size > a.size && !ctx.broken;
    report(ctx, {
      kind: 'changed',
      path: 'extension.size',
      before: a.size,
      after: b.size,
      summary: `${now.name}: extended size ${a.size} -> ${b.size}${ok ? ' by appending fields' : ''}`,
      ...(ok ? {} : { rule: 'struct-size-changed' as const }),
      loc: c.inTo(now, 'extension', 'size'),
    });
  }
}

/** Struct names used as the type of a field somewhere: growing them moves their containers. */
function nestedStructs(c: DiffCollector): Set<string> {
  const out = new Set<string>();
  for (const p of [...structsOf(c.from), ...structsOf(c.to)]) {
    for (const f of [...p.fields, ...(p.extension?.fields ?? [])]) if (!isPrimitive(f.type)) out.add(f.type);
  }
  return out;
}

export function diffPayloads(c: DiffCollector): void {
  const nested = nestedStructs(c);
  const after = new Map(structsOf(c.to).map((p) => [p.name, p]));
  const before = new Set(structsOf(c.from).map((p) => p.name));
  for (const old of structsOf(c.from)) {
    const now = after.get(old.name);
    if (!now) {
      c.add({
        kind: 'removed',
        entity: 'payload',
        name: old.name,
        summary: `struct ${old.name} removed: the generated API no longer exports its type, encoder and decoder`,
        rule: 'generated-name-removed',
        loc: c.inFrom(old),
      });
      continue;
    }
    compareStruct(c, old, now, nested);
  }
  for (const now of structsOf(c.to)) {
    if (!before.has(now.name))
      c.add({
        kind: 'added',
        entity: 'payload',
        name: now.name,
        summary: `added struct ${now.name} (${now.size === null ? 'variable size' : `${now.size} bytes`})`,
        loc: c.inTo(now),
      });
  }
}

function compareEnum(c: DiffCollector, old: EnumDef, now: EnumDef): void {
  const add = (input: Omit<Parameters<DiffCollector['add']>[0], 'entity' | 'name'>) =>
    c.add({ entity: 'enum', name: now.name, ...input });
  if (old.kind !== now.kind)
    add({
      kind: 'changed',
      path: 'kind',
      before: old.kind,
      after: now.kind,
      summary: `${now.name}: ${old.kind} -> ${now.kind}`,
      rule: 'enum-value-changed',
      loc: c.inTo(now, 'kind'),
    });
  const matched = new Set<EnumDef['values'][number]>();
  for (const [oldIndex, v] of old.values.entries()) {
    const exact = now.values.find((x) => x.name === v.name);
    const renamed = exact
      ? undefined
      : now.values.find((x) => x.value === v.value && !old.values.some((o) => o.name === x.name));
    const target = exact ?? renamed;
    if (!target) {
      add({
        kind: 'removed',
        path: `values.${v.name}`,
        before: v.value,
        summary: `${now.name}.${v.name} (${v.value}) removed`,
        rule: 'enum-value-changed',
        loc: c.inFrom(old, 'values', oldIndex),
      });
      continue;
    }
    matched.add(target);
    const loc = c.inTo(now, 'values', now.values.indexOf(target));
    if (renamed)
      add({
        kind: 'changed',
        path: `values.${v.name}`,
        before: v.name,
        after: renamed.name,
        summary: `${now.name}.${v.name} renamed to ${renamed.name}`,
        rule: 'generated-name-changed',
        loc,
      });
    if (target.value !== v.value)
      add({
        kind: 'changed',
        path: `values.${v.name}`,
        before: v.value,
        after: target.value,
        summary: `${now.name}.${v.name}: ${v.value} -> ${target.value}`,
        rule: 'enum-value-changed',
        loc,
      });
  }
  for (const [i, v] of now.values.entries()) {
    if (matched.has(v)) continue;
    const clash = old.values.find((o) => o.value === v.value);
    add({
      kind: 'added',
      path: `values.${v.name}`,
      after: v.value,
      summary: clash
        ? `${now.name}.${v.name} added with value ${v.value}, which ${clash.name} already means`
        : `${now.name}.${v.name} added (${v.value})`,
      ...(clash ? { rule: 'enum-value-changed' as const } : {}),
      loc: c.inTo(now, 'values', i),
    });
  }
  if (
    old.title !== now.title ||
    old.doc !== now.doc ||
    !same(
      old.values.map((v) => v.doc),
      now.values.map((v) => v.doc),
    )
  ) {
    if (old.values.length === now.values.length)
      add({ kind: 'changed', path: 'doc', summary: `${now.name}: descriptions reworded`, loc: c.inTo(now) });
  }
  diffDivergences(c, 'enum', now.name, old.divergences, now.divergences, c.inTo(now));
}

export function diffEnums(c: DiffCollector): void {
  const after = new Map(c.to.enums.map((e) => [e.name, e]));
  for (const old of c.from.enums) {
    const now = after.get(old.name);
    if (!now)
      c.add({
        kind: 'removed',
        entity: 'enum',
        name: old.name,
        summary: `enum ${old.name} removed from the generated API`,
        rule: 'generated-name-removed',
        loc: c.inFrom(old),
      });
    else compareEnum(c, old, now);
  }
  for (const now of c.to.enums) {
    if (!c.from.enums.some((e) => e.name === now.name))
      c.add({ kind: 'added', entity: 'enum', name: now.name, summary: `added enum ${now.name}`, loc: c.inTo(now) });
  }
}
