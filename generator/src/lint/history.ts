/** Releases: `since` and `status` agree with the frozen snapshots; numbers are never reused or dropped. */
import { basename } from 'node:path';
import type { SpecModel } from '../load.js';
import { compareVersions } from '../repository.js';
import type { RegistryEntry, Status } from '../schema.js';

type AnyStatus = Status | RegistryEntry['status'];
import { Findings, type LintRule } from './rule.js';
import { structsOf } from '../layout.js';

/** Something with a `since`: its identity across versions, and the names it was known by. */
interface Tracked {
  key: string;
  names: string[];
  entity: object;
  since: string;
  status?: AnyStatus;
}

function tracked(model: SpecModel): Tracked[] {
  const named = (
    kind: string,
    name: string,
    aliases: string[] | undefined,
    entity: object & { since: string; status?: AnyStatus },
  ): Tracked => ({
    key: `${kind}:${name}`,
    names: [name, ...(aliases ?? [])].map((n) => `${kind}:${n}`),
    entity,
    since: entity.since,
    status: entity.status,
  });
  return [
    ...model.messages.map((m) => named(`message:${m.channel}`, m.name, m.aliases, m)),
    ...model.protocolFeatures.map((b) => named('protocol-feature', b.name, b.aliases, b)),
    ...model.virtioFeatures.map((b) => named('virtio-feature', b.name, b.aliases, b)),
    ...structsOf(model).map((p) => named('payload', p.name, undefined, p)),
    ...model.enums.map((e) => named('enum', e.name, undefined, e)),
    ...model.constants.map((c) => named('constant', c.name, undefined, c)),
    ...model.registry.map((r) => named(`registry:${r.space}:${r.number}`, r.name, undefined, r)),
    ...model.rules.preconditions.map((r) => named('precondition', r.id, undefined, r)),
    ...model.rules.ringStates.transitions.map((t) => named('transition', `${t.message}/${t.num ?? '*'}`, undefined, t)),
  ];
}

function keysOf(model: SpecModel): Set<string> {
  const keys = new Set<string>();
  for (const t of tracked(model)) for (const n of t.names) keys.add(n);
  return keys;
}

export const sinceAgrees: LintRule = {
  id: 'since-release',
  description:
    "Every item's `since` names the first release that contains it, and releases are consistent with each other.",
  check({ model, earlier }) {
    const f = new Findings(this.id, model);
    const version = model.meta.version;
    const earlierKeys = earlier.map((e) => ({ version: e.meta.version, keys: keysOf(e) }));
    for (const item of tracked(model)) {
      if (item.since === 'draft' && version !== 'draft') {
        f.at(item.entity, ['since'], `since is "draft" in frozen release ${version}; it must be ${version}`);
        continue;
      }
      if (compareVersions(item.since, version) > 0) {
        f.at(item.entity, ['since'], `since ${item.since} is newer than this version (${version})`);
        continue;
      }
      const known =
        item.since === 'draft' || item.since === version || earlierKeys.some((e) => e.version === item.since);
      if (!known) {
        f.at(
          item.entity,
          ['since'],
          `since ${item.since} is not a release (releases: ${earlierKeys.map((e) => e.version).join(', ') || 'none'})`,
        );
        continue;
      }
      const first = earlierKeys.find((e) => item.names.some((n) => e.keys.has(n)));
      const firstVersion = first?.version ?? version;
      if (firstVersion !== item.since) {
        f.at(
          item.entity,
          ['since'],
          `since says ${item.since}, but ${item.key.split(':').pop()} first appears in ${firstVersion === 'draft' ? 'the draft' : `release ${firstVersion}`}`,
        );
      }
    }
    return f.issues;
  },
};

export const statusAgrees: LintRule = {
  id: 'status-release',
  description:
    'Frozen releases hold no proposals, draft items are proposed (and proposals are draft), and a deprecated item never becomes stable again.',
  check({ model, earlier }) {
    const f = new Findings(this.id, model);
    const frozen = model.meta.status === 'frozen';
    const previous = earlier[earlier.length - 1];
    const previousStatus = new Map<string, AnyStatus | undefined>();
    if (previous) for (const t of tracked(previous)) for (const n of t.names) previousStatus.set(n, t.status);
    for (const item of tracked(model)) {
      if (frozen && item.status === 'proposed')
        f.at(
          item.entity,
          ['status'],
          `a frozen release cannot contain a proposal; accept it (stable) or leave it in the draft`,
        );
      if (!frozen && !item.key.startsWith('registry:') && item.status !== undefined) {
        // GOVERNANCE.md: new items are `since: draft` and `status: proposed` until a release accepts them.
        if (item.since === 'draft' && item.status !== 'proposed')
          f.at(
            item.entity,
            ['status'],
            `since is "draft" but status is ${item.status}; a new item stays "proposed" until \`vhost-user release\` accepts it (GOVERNANCE.md, "Proposing a change")`,
          );
        else if (item.since !== 'draft' && item.status === 'proposed')
          f.at(
            item.entity,
            ['status'],
            `status is "proposed" but the item was released in ${item.since}; a released item is stable or deprecated`,
          );
      }
      const before = item.names.map((n) => previousStatus.get(n)).find((s) => s !== undefined);
      if (before === 'deprecated' && item.status === 'stable')
        f.at(
          item.entity,
          ['status'],
          `was deprecated in ${previous?.meta.version}; a deprecated item cannot become stable again`,
        );
    }
    return f.issues;
  },
};

/** Numbers a version assigns: `space:number` -> name, from its tables and its registry. */
function numbering(
  model: SpecModel,
): Map<string, { name: string; aliases: string[]; entity: object; field: string; fromRegistry: boolean }> {
  const out = new Map<
    string,
    { name: string; aliases: string[]; entity: object; field: string; fromRegistry: boolean }
  >();
  for (const m of model.messages)
    out.set(`${m.channel}:${m.id}`, {
      name: m.name,
      aliases: m.aliases ?? [],
      entity: m,
      field: 'id',
      fromRegistry: false,
    });
  for (const b of model.protocolFeatures)
    out.set(`protocol-feature:${b.bit}`, {
      name: b.name,
      aliases: b.aliases ?? [],
      entity: b,
      field: 'bit',
      fromRegistry: false,
    });
  for (const b of model.virtioFeatures)
    out.set(`virtio-feature:${b.bit}`, {
      name: b.name,
      aliases: b.aliases ?? [],
      entity: b,
      field: 'bit',
      fromRegistry: false,
    });
  return out;
}

function describeSpace(space: string): string {
  const [kind, number] = space.split(':');
  const label =
    kind === 'frontend' ? 'front-end message id' : kind === 'backend' ? 'back-end message id' : `${kind} bit`;
  return `${label} ${number}`;
}

export const numbersNeverReused: LintRule = {
  id: 'number-reused',
  description: 'An id or bit, once released or registered, never names anything else.',
  check({ model, earlier }) {
    const f = new Findings(this.id, model);
    const current = numbering(model);
    for (const entry of model.registry) {
      const space = `${entry.space}:${entry.number}`;
      const taken = current.get(space);
      if (taken && taken.name !== entry.name)
        f.at(
          entry,
          ['number'],
          `${describeSpace(space)} is registered as ${entry.name} (${entry.status}) but the tables give it to ${taken.name}`,
        );
    }
    for (const old of earlier) {
      const before = numbering(old);
      for (const r of old.registry)
        before.set(`${r.space}:${r.number}`, {
          name: r.name,
          aliases: [],
          entity: r,
          field: 'number',
          fromRegistry: true,
        });
      for (const [space, now] of current) {
        const was = before.get(space);
        if (!was || was.name === now.name || now.aliases.includes(was.name) || was.aliases.includes(now.name)) continue;
        f.at(
          now.entity,
          [now.field],
          `${describeSpace(space)} was ${was.name} in ${old.meta.version}; giving it to ${now.name} reuses a released number`,
        );
      }
    }
    return f.issues;
  },
};

export const numbersNeverDropped: LintRule = {
  id: 'number-dropped',
  description:
    'An id or bit that was released stays in the tables or moves to the registry; it is never silently removed.',
  check({ model, earlier }) {
    const f = new Findings(this.id, model);
    const previous = earlier[earlier.length - 1];
    if (!previous) return [];
    const current = numbering(model);
    const registered = new Set(model.registry.map((r) => `${r.space}:${r.number}`));
    for (const [space, was] of numbering(previous)) {
      if (current.has(space) || registered.has(space)) continue;
      const byName = [...current.entries()].find(([, now]) => now.name === was.name || now.aliases.includes(was.name));
      const note = byName ? ` (${was.name} now has ${describeSpace(byName[0])})` : '';
      f.at(
        model.registry,
        [],
        `${describeSpace(space)} (${was.name} in ${previous.meta.version}) was removed without a registry entry${note}`,
      );
    }
    return f.issues;
  },
};

export const releaseMeta: LintRule = {
  id: 'release-meta',
  description:
    'spec.yaml agrees with the folder: releases are frozen and named after their folder; the draft follows the newest release.',
  check({ model, earlier, repo }) {
    const f = new Findings(this.id, model);
    const meta = model.meta;
    const isDraft = model === repo.draft;
    if (isDraft) {
      if (meta.version !== 'draft' || meta.status !== 'draft')
        f.at(meta, ['version'], 'the working spec/ must have version "draft" and status "draft"');
      const newest = repo.releases[repo.releases.length - 1]?.meta.version ?? null;
      if (meta.previous !== newest)
        f.at(
          meta,
          ['previous'],
          `previous is ${meta.previous ?? 'null'} but the newest release is ${newest ?? 'none'}`,
        );
    } else {
      const folder = basename(model.dir);
      if (meta.version !== folder)
        f.at(meta, ['version'], `version ${meta.version} does not match its folder releases/${folder}`);
      if (meta.status !== 'frozen') f.at(meta, ['status'], 'a release must have status "frozen"');
      const prev = earlier[earlier.length - 1]?.meta.version ?? null;
      if (meta.previous !== prev)
        f.at(meta, ['previous'], `previous is ${meta.previous ?? 'null'} but the release before is ${prev ?? 'none'}`);
    }
    if (meta.release.version !== meta.version)
      f.at(
        meta,
        ['release', 'version'],
        `release.version ${meta.release.version} differs from version ${meta.version}`,
      );
    return f.issues;
  },
};
