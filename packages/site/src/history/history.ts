/**
 * The history of each message and feature bit: when it was first specified, then every change
 * the semantic diffs between consecutive versions report for it.
 */
import type { SpecModel } from '@vhost-user/generator';
import type { HistoryEntry, HistoryLookup } from '../render/history.js';
import { isNormative, readableSummary } from './readable.js';
import type { SpecDiff } from './semantic-diff.js';

const ENTITIES: Record<'message' | 'feature' | 'ring-transition', string[]> = {
  message: ['message', 'ring-transition'],
  feature: ['protocol-feature', 'virtio-feature'],
  'ring-transition': ['ring-transition'],
};

/**
 * `versions` oldest first and `diffs[i]` from versions[i] to versions[i + 1]. Returns the
 * lookup as seen from `upTo` (later changes are not shown on an older version's pages).
 */
export function historyFor(versions: SpecModel[], diffs: SpecDiff[], upTo: string): HistoryLookup {
  const last = versions.findIndex((v) => v.meta.version === upTo);
  const model = versions[last];
  const visible = diffs.slice(0, Math.max(0, last));
  return (entity, name) => {
    const entries: HistoryEntry[] = [];
    for (const diff of visible) {
      for (const change of diff.changes) {
        if (change.name !== name || !ENTITIES[entity].includes(change.entity)) continue;
        entries.push({
          version: diff.to,
          kind: change.kind,
          summary: readableSummary(change),
          normative: isNormative(change),
        });
      }
    }
    if (!entries.some((e) => e.kind === 'added') && model) {
      const item = [...model.messages, ...model.protocolFeatures, ...model.virtioFeatures].find((i) => i.name === name);
      if (item && entity !== 'ring-transition')
        entries.unshift({ version: item.since, kind: 'added', summary: 'first specified', normative: false });
    }
    return entries;
  };
}
