/** Protocol and virtio feature bits: numbers, dependencies, names. */
import type { ProtocolFeature, VirtioFeature } from '../schema.js';
import { DiffCollector, listOrNone, sameItem, sameSet } from './collect.js';
import { diffDivergences } from './messages.js';
import { reportAddition, reportRemoval } from './numbers.js';

type Feature = ProtocolFeature | VirtioFeature;

function compareFeature(
  c: DiffCollector,
  entity: 'protocol-feature' | 'virtio-feature',
  old: Feature,
  now: Feature,
): void {
  const name = now.name;
  const add = c.changedReporter(entity, name);
  c.compareNames(entity, old, now);
  if (old.bit !== now.bit) {
    add({
      path: 'bit',
      before: old.bit,
      after: now.bit,
      summary: `bit ${old.bit} -> ${now.bit}: peers on ${c.from.meta.version} negotiate it as bit ${old.bit}`,
      rule: 'feature-bit-renumbered',
      loc: c.inTo(now, 'bit'),
    });
  }
  if ('requires' in old || 'requires' in now) {
    const a = (old as ProtocolFeature).requires;
    const b = (now as ProtocolFeature).requires;
    if (!sameSet(a, b)) {
      add({
        path: 'requires',
        before: a ?? [],
        after: b ?? [],
        summary: `requires ${listOrNone(a)} -> ${listOrNone(b)}`,
        rule: 'feature-dependency-changed',
        loc: c.inTo(now, 'requires'),
      });
    }
  }
  if ('scope' in old && 'scope' in now && old.scope !== now.scope) {
    add({
      path: 'scope',
      before: old.scope,
      after: now.scope,
      summary: `scope ${old.scope} -> ${now.scope}`,
      loc: c.inTo(now, 'scope'),
    });
  }
  if (old.status !== now.status)
    add({
      path: 'status',
      before: old.status,
      after: now.status,
      summary: `status ${old.status} -> ${now.status}`,
      loc: c.inTo(now, 'status'),
    });
  if (old.summary.trim() !== now.summary.trim())
    add({
      path: 'summary',
      before: old.summary,
      after: now.summary,
      summary: 'summary reworded',
      loc: c.inTo(now, 'summary'),
    });
  if (entity === 'protocol-feature') {
    diffDivergences(
      c,
      entity,
      name,
      (old as ProtocolFeature).divergences,
      (now as ProtocolFeature).divergences,
      c.inTo(now),
    );
  }
}

function diffFeatureList(
  c: DiffCollector,
  entity: 'protocol-feature' | 'virtio-feature',
  before: Feature[],
  after: Feature[],
): void {
  const matched = new Set<Feature>();
  for (const old of before) {
    const now = after.find((f) => sameItem(old, f) && !matched.has(f));
    if (!now) {
      reportRemoval(c, entity, old, entity, old.bit, 'feature-removed');
      continue;
    }
    matched.add(now);
    compareFeature(c, entity, old, now);
  }
  for (const now of after) if (!matched.has(now)) reportAddition(c, entity, now, entity, now.bit, 'bit');
}

export function diffFeatures(c: DiffCollector): void {
  diffFeatureList(c, 'protocol-feature', c.from.protocolFeatures, c.to.protocolFeatures);
  diffFeatureList(c, 'virtio-feature', c.from.virtioFeatures, c.to.virtioFeatures);
}
