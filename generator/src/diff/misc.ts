/** The message header, named constants and the virtqueue layouts. */
import type { RingLayoutFile } from '../schema.js';
import { DiffCollector, same } from './collect.js';

export function diffHeader(c: DiffCollector): void {
  const a = c.from.header;
  const b = c.to.header;
  const add = (input: Omit<Parameters<DiffCollector['add']>[0], 'entity' | 'name'>) =>
    c.add({ entity: 'header', name: 'header', ...input });
  for (const [i, old] of a.fields.entries()) {
    const index = b.fields.findIndex((f) => f.name === old.name);
    const now = b.fields[index];
    if (!now)
      add({
        kind: 'removed',
        path: `fields.${old.name}`,
        before: old,
        summary: `header field ${old.name} (${old.type} at ${old.offset}) removed`,
        rule: 'header-changed',
        loc: c.inFrom(a, 'fields', i),
      });
    else if (now.offset !== old.offset || now.type !== old.type) {
      add({
        kind: 'changed',
        path: `fields.${old.name}`,
        before: old,
        after: now,
        summary: `header field ${old.name} (${old.type} at ${old.offset}) is now ${now.type} at ${now.offset}`,
        rule: 'header-changed',
        loc: c.inTo(b, 'fields', index),
      });
    }
  }
  for (const now of b.fields) {
    if (!a.fields.some((f) => f.name === now.name))
      add({
        kind: 'added',
        path: `fields.${now.name}`,
        after: now,
        summary: `header field ${now.name} added`,
        rule: 'header-changed',
        loc: c.inTo(b, 'fields'),
      });
  }
  if (!same(a.version, b.version))
    add({
      kind: 'changed',
      path: 'version',
      before: a.version,
      after: b.version,
      summary: `header version ${a.version.value} (mask ${a.version.mask}) -> ${b.version.value} (mask ${b.version.mask})`,
      rule: 'header-changed',
      loc: c.inTo(b, 'version'),
    });
  for (const [i, old] of a.flags.entries()) {
    const index = b.flags.findIndex((f) => f.name === old.name);
    const now = b.flags[index];
    if (!now)
      add({
        kind: 'removed',
        path: `flags.${old.name}`,
        before: old.mask,
        summary: `header flag ${old.name} removed`,
        rule: 'header-changed',
        loc: c.inFrom(a, 'flags', i),
      });
    else if (now.mask !== old.mask)
      add({
        kind: 'changed',
        path: `flags.${old.name}`,
        before: old.mask,
        after: now.mask,
        summary: `header flag ${old.name}: mask 0x${old.mask.toString(16)} -> 0x${now.mask.toString(16)}`,
        rule: 'header-changed',
        loc: c.inTo(b, 'flags', index, 'mask'),
      });
  }
  for (const [index, now] of b.flags.entries()) {
    if (a.flags.some((f) => f.name === now.name)) continue;
    const wasReserved = (a.reservedMask & now.mask) === now.mask;
    add({
      kind: 'added',
      path: `flags.${now.name}`,
      after: now.mask,
      summary: `header flag ${now.name} (0x${now.mask.toString(16)}) added${wasReserved ? ' in reserved bits' : ', outside the reserved bits'}`,
      ...(wasReserved ? {} : { rule: 'header-changed' as const }),
      loc: c.inTo(b, 'flags', index),
    });
  }
}

export function diffConstants(c: DiffCollector): void {
  for (const old of c.from.constants) {
    const now = c.to.constants.find((x) => x.name === old.name);
    if (!now)
      c.add({
        kind: 'removed',
        entity: 'constant',
        name: old.name,
        before: old.value,
        summary: `constant ${old.name} (${old.value}) removed from the generated API`,
        rule: 'generated-name-removed',
        loc: c.inFrom(old),
      });
    else if (now.value !== old.value)
      c.add({
        kind: 'changed',
        entity: 'constant',
        name: old.name,
        path: 'value',
        before: old.value,
        after: now.value,
        summary: `${old.name}: ${old.value} -> ${now.value}`,
        rule: 'constant-changed',
        loc: c.inTo(now, 'value'),
      });
    else if (now.doc !== old.doc)
      c.add({
        kind: 'changed',
        entity: 'constant',
        name: old.name,
        path: 'doc',
        summary: `${old.name}: description reworded`,
        loc: c.inTo(now, 'doc'),
      });
  }
  for (const now of c.to.constants) {
    if (!c.from.constants.some((x) => x.name === now.name))
      c.add({
        kind: 'added',
        entity: 'constant',
        name: now.name,
        after: now.value,
        summary: `added constant ${now.name} = ${now.value}`,
        loc: c.inTo(now),
      });
  }
}

function diffRing(c: DiffCollector, a: RingLayoutFile, b: RingLayoutFile): void {
  const ring = `${b.ring} ring`;
  const add = (input: Omit<Parameters<DiffCollector['add']>[0], 'entity'>) =>
    c.add({ entity: 'ring-layout', ...input });
  if (a.maxQueueSize !== b.maxQueueSize)
    add({
      kind: 'changed',
      name: ring,
      path: 'maxQueueSize',
      before: a.maxQueueSize,
      after: b.maxQueueSize,
      summary: `${ring}: largest queue size ${a.maxQueueSize} -> ${b.maxQueueSize}`,
      rule: 'ring-layout-changed',
      loc: c.inTo(b, 'maxQueueSize'),
    });
  for (const [i, old] of a.areas.entries()) {
    const index = b.areas.findIndex((x) => x.name === old.name);
    const now = b.areas[index];
    const name = `${ring} ${old.name}`;
    if (!now) {
      add({
        kind: 'removed',
        name,
        before: old,
        summary: `${name} removed`,
        rule: 'ring-layout-changed',
        loc: c.inFrom(a, 'areas', i),
      });
      continue;
    }
    for (const key of ['struct', 'align', 'sizeFormula'] as const) {
      if (old[key] !== now[key])
        add({
          kind: 'changed',
          name,
          path: key,
          before: old[key],
          after: now[key],
          summary: `${name}: ${key} ${old[key]} -> ${now[key]}`,
          rule: 'ring-layout-changed',
          loc: c.inTo(b, 'areas', index, key),
        });
    }
  }
  for (const [index, now] of b.areas.entries()) {
    if (!a.areas.some((x) => x.name === now.name))
      add({
        kind: 'added',
        name: `${ring} ${now.name}`,
        after: now,
        summary: `${ring}: area ${now.name} added`,
        rule: 'ring-layout-changed',
        loc: c.inTo(b, 'areas', index),
      });
  }
  for (const [i, old] of a.constants.entries()) {
    const index = b.constants.findIndex((x) => x.name === old.name);
    const now = b.constants[index];
    if (!now)
      add({
        kind: 'removed',
        name: old.name,
        before: old.value,
        summary: `${ring} constant ${old.name} removed from the generated API`,
        rule: 'generated-name-removed',
        loc: c.inFrom(a, 'constants', i),
      });
    else if (now.value !== old.value)
      add({
        kind: 'changed',
        name: old.name,
        path: 'value',
        before: old.value,
        after: now.value,
        summary: `${old.name}: ${old.value} -> ${now.value}`,
        rule: 'constant-changed',
        loc: c.inTo(b, 'constants', index, 'value'),
      });
  }
  for (const [index, now] of b.constants.entries()) {
    if (!a.constants.some((x) => x.name === now.name))
      add({
        kind: 'added',
        name: now.name,
        after: now.value,
        summary: `${ring}: added constant ${now.name} = ${now.value}`,
        loc: c.inTo(b, 'constants', index),
      });
  }
}

export function diffRings(c: DiffCollector): void {
  diffRing(c, c.from.rings.split, c.to.rings.split);
  diffRing(c, c.from.rings.packed, c.to.rings.packed);
}
