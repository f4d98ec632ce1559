/**
 * The history of each message and feature bit: when it was first specified, then every change
 * the semantic diffs between consecutive versions report for it.
 */
import type { SpecModel } from '@vhost-user/generator';
import type { HistoryEntry, HistoryLookup } from '../render/history.js';
import type { SpecDiff } from './semantic-diff.js';

const ENTITIES: Record<'message' | 'feature' | 'ring-transition', string[]> = {
  message: ['message', 'ring-transition'],
  feature: ['protocol-feature', 'virtio-feature'],
  'ring-transition': ['ring-transition'],
};

/** The diff's wording, for a reader: "ring state: started (first-kick) -> started (immediate)". */
function readable(change: SpecDiff['changes'][number]): string {
  const summary = change.summary.startsWith(`${change.name}: `)
    ? change.summary.slice(change.name.length + 2)
    : change.summary;
  if (change.entity === 'ring-transition') return `ring state: ${summary}`;
  if (change.path === 'divergences') {
    const who = [...new Set([...summary.matchAll(/\(([^)]+)\)/g)].flatMap((m) => (m[1] as string).split(/,\s*/)))];
    return `recorded divergences updated${who.length ? ` (${who.join(', ')})` : ''}`;
  }
  return summary;
}

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
          summary: readable(change),
          normative: Boolean(change.breaking),
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
