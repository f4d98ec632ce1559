/**
 * Number spaces (message ids per channel, feature bits) and the registry: who holds a number
 * in a version, so additions can be checked for reuse and removals for a registry entry.
 */
import type { SpecModel } from '../load.js';
import type { RegistryEntry } from '../schema.js';
import { DiffCollector, sameItem, type Named } from './collect.js';

export type NumberSpace = 'frontend' | 'backend' | 'protocol-feature' | 'virtio-feature';

export interface Holder extends Named {
  /** Set when the number is held by a registry entry rather than a table item. */
  registry?: RegistryEntry;
}

export function describeNumber(space: NumberSpace, number: number): string {
  if (space === 'frontend') return `front-end id ${number}`;
  if (space === 'backend') return `back-end id ${number}`;
  return `${space} bit ${number}`;
}

/** Table items holding a number (several when a version is itself inconsistent). */
export function tableHolders(model: SpecModel, space: NumberSpace, number: number): Holder[] {
  if (space === 'protocol-feature') return model.protocolFeatures.filter((b) => b.bit === number);
  if (space === 'virtio-feature') return model.virtioFeatures.filter((b) => b.bit === number);
  return model.messages.filter((m) => m.channel === space && m.id === number);
}

export function registryEntry(model: SpecModel, space: NumberSpace, number: number): RegistryEntry | undefined {
  return model.registry.find((r) => r.space === space && r.number === number);
}

/** Who held `number` in the older version, other than `item` itself. */
export function previousHolder(model: SpecModel, space: NumberSpace, number: number, item: Named): Holder | undefined {
  const other = tableHolders(model, space, number).find((h) => !sameItem(h, item));
  if (other) return other;
  const entry = registryEntry(model, space, number);
  if (entry && entry.name !== item.name && !(item.aliases ?? []).includes(entry.name))
    return { name: entry.name, registry: entry };
  return undefined;
}

/** An item that appears in the newer version: added, or a reused number. */
export function reportAddition(
  c: DiffCollector,
  entity: 'message' | 'protocol-feature' | 'virtio-feature',
  item: Named & object,
  space: NumberSpace,
  number: number,
  field: 'id' | 'bit',
): void {
  const loc = c.inTo(item, field);
  const before = previousHolder(c.from, space, number, item);
  if (before) {
    const was = before.registry ? `${before.name} (${before.registry.status} in the registry)` : before.name;
    c.add({
      kind: 'added',
      entity,
      name: item.name,
      path: field,
      before: before.name,
      after: item.name,
      summary: `${describeNumber(space, number)} was ${was} in ${c.from.meta.version}; giving it to ${item.name} reuses the number`,
      rule: 'number-reused',
      loc,
    });
    return;
  }
  const held = registryEntry(c.from, space, number);
  const note = held ? ` (takes the number the registry held for it as ${held.status})` : '';
  c.add({
    kind: 'added',
    entity,
    name: item.name,
    path: '',
    after: number,
    summary: `added ${item.name} as ${describeNumber(space, number)}${note}`,
    loc,
  });
}

/**
 * An item that disappears from the tables: fine when its number moved to the registry or a
 * reuse is reported for it already; otherwise `rule`.
 */
export function reportRemoval(
  c: DiffCollector,
  entity: 'message' | 'protocol-feature' | 'virtio-feature',
  item: Named & object,
  space: NumberSpace,
  number: number,
  rule: 'message-removed' | 'feature-removed',
): void {
  const loc = c.inFrom(item);
  const entry = registryEntry(c.to, space, number);
  if (entry) {
    c.add({
      kind: 'removed',
      entity,
      name: item.name,
      before: number,
      summary: `removed ${item.name}; ${describeNumber(space, number)} is ${entry.status} in the registry`,
      loc,
    });
    return;
  }
  const reuser = tableHolders(c.to, space, number)[0];
  if (reuser) {
    c.add({
      kind: 'removed',
      entity,
      name: item.name,
      before: number,
      summary: `removed ${item.name}; ${describeNumber(space, number)} now names ${reuser.name} (see number-reused)`,
      loc,
    });
    return;
  }
  c.add({
    kind: 'removed',
    entity,
    name: item.name,
    before: number,
    summary: `removed ${item.name} (${describeNumber(space, number)}) without a registry entry: peers would read the freed number as something else once reused`,
    rule,
    loc,
  });
}

/** Registry entries: a held number must not silently become free again. */
export function diffRegistry(c: DiffCollector): void {
  const key = (r: RegistryEntry) => `${r.space}:${r.number}`;
  const after = new Map(c.to.registry.map((r) => [key(r), r]));
  const before = new Map(c.from.registry.map((r) => [key(r), r]));
  for (const old of c.from.registry) {
    const now = after.get(key(old));
    const label = `${describeNumber(old.space, old.number)} (${old.name})`;
    if (!now) {
      const promoted = tableHolders(c.to, old.space, old.number).some((h) => sameItem(h, old));
      c.add({
        kind: 'removed',
        entity: 'registry',
        name: old.name,
        before: old.status,
        summary: promoted
          ? `${label} left the registry: it is now in the tables`
          : `${label} left the registry (${old.status}); the number is free to be reused`,
        ...(promoted ? {} : { rule: 'reservation-dropped' as const }),
        loc: c.inFrom(old),
      });
      continue;
    }
    if (now.name !== old.name) {
      c.add({
        kind: 'changed',
        entity: 'registry',
        name: now.name,
        path: 'name',
        before: old.name,
        after: now.name,
        summary: `${describeNumber(now.space, now.number)} was registered as ${old.name}; holding it for ${now.name} reuses the number`,
        rule: 'number-reused',
        loc: c.inTo(now, 'name'),
      });
    } else if (now.status !== old.status) {
      c.add({
        kind: 'changed',
        entity: 'registry',
        name: now.name,
        path: 'status',
        before: old.status,
        after: now.status,
        summary: `${label}: ${old.status} -> ${now.status}`,
        loc: c.inTo(now, 'status'),
      });
    }
  }
  for (const now of c.to.registry) {
    if (before.has(key(now))) continue;
    c.add({
      kind: 'added',
      entity: 'registry',
      name: now.name,
      after: now.status,
      summary: `${describeNumber(now.space, now.number)} registered as ${now.name} (${now.status})`,
      loc: c.inTo(now),
    });
  }
}
