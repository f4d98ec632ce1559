/** Messages: ids, channels, payloads, reply and fd rules, gates. */
import type { ChannelMessage } from '../load.js';
import type { FdSpec, ReplyRule } from '../schema.js';
import { DiffCollector, listOrNone, same, sameItem, sameSet } from './collect.js';
import { reportAddition, reportRemoval } from './numbers.js';

function describeReply(r: ReplyRule): string {
  if (r.kind === 'ack') return 'ack (with REPLY_ACK)';
  if (r.kind === 'none') return 'never answered';
  const payload = r.payload ?? 'no body';
  if (r.kind === 'always') return `always answered with ${payload}`;
  return `answered with ${payload} only when ${r.protocolFeature ?? r.condition}`;
}

/** The parts of a reply rule that decide bytes on the socket (not the wording). */
function replyShape(r: ReplyRule): unknown {
  return {
    kind: r.kind,
    payload: 'payload' in r ? r.payload : null,
    protocolFeature: r.kind === 'conditional' ? (r.protocolFeature ?? null) : null,
  };
}

function describeFds(f: FdSpec): string {
  return f.protocolFeature ? `${f.rule} (with ${f.protocolFeature})` : f.rule;
}

function compareMessage(c: DiffCollector, old: ChannelMessage, now: ChannelMessage): void {
  const name = now.name;
  const add = c.changedReporter('message', name);
  c.compareNames('message', old, now);
  if (old.channel !== now.channel) {
    add({
      path: 'channel',
      before: old.channel,
      after: now.channel,
      summary: `moved from the ${old.channel} channel to the ${now.channel} channel`,
      rule: 'message-channel-changed',
      loc: c.inTo(now),
    });
  } else if (old.id !== now.id) {
    add({
      path: 'id',
      before: old.id,
      after: now.id,
      summary: `id ${old.id} -> ${now.id}: peers on ${c.from.meta.version} send and expect ${old.id}`,
      rule: 'message-id-changed',
      loc: c.inTo(now, 'id'),
    });
  }
  if (old.request !== now.request) {
    add({
      path: 'request',
      before: old.request,
      after: now.request,
      summary: `request payload ${old.request ?? 'none'} -> ${now.request ?? 'none'}`,
      rule: 'request-payload-changed',
      loc: c.inTo(now, 'request'),
    });
  }
  if (!same(replyShape(old.reply), replyShape(now.reply))) {
    add({
      path: 'reply',
      before: old.reply,
      after: now.reply,
      summary: `reply: ${describeReply(old.reply)} -> ${describeReply(now.reply)}`,
      rule: 'reply-rule-changed',
      loc: c.inTo(now, 'reply'),
    });
  } else if (!same(old.reply, now.reply)) {
    add({
      path: 'reply.doc',
      before: old.reply,
      after: now.reply,
      summary: 'reply rule reworded (same shape)',
      loc: c.inTo(now, 'reply'),
    });
  }
  for (const side of ['request', 'reply'] as const) {
    const a = old.fds[side];
    const b = now.fds[side];
    if (a.rule !== b.rule || (a.protocolFeature ?? null) !== (b.protocolFeature ?? null)) {
      add({
        path: `fds.${side}`,
        before: a,
        after: b,
        summary: `${side} fds: ${describeFds(a)} -> ${describeFds(b)}`,
        rule: 'fd-rule-changed',
        loc: c.inTo(now, 'fds', side),
      });
    } else if (a.doc !== b.doc) {
      add({
        path: `fds.${side}.doc`,
        before: a.doc,
        after: b.doc,
        summary: `${side} fd rule reworded`,
        loc: c.inTo(now, 'fds', side),
      });
    }
  }
  for (const list of ['protocolFeatures', 'virtioFeatures'] as const) {
    const a = old.gate[list];
    const b = now.gate[list];
    if (!sameSet(a, b)) {
      add({
        path: `gate.${list}`,
        before: a ?? [],
        after: b ?? [],
        summary: `gate (${list}): ${listOrNone(a)} -> ${listOrNone(b)}`,
        rule: 'gate-changed',
        loc: c.inTo(now, 'gate'),
      });
    }
  }
  if (old.status !== now.status)
    add({
      path: 'status',
      before: old.status,
      after: now.status,
      summary: `status ${old.status} -> ${now.status}`,
      loc: c.inTo(now, 'status'),
    });
  if (old.summary !== now.summary)
    add({
      path: 'summary',
      before: old.summary,
      after: now.summary,
      summary: 'summary reworded',
      loc: c.inTo(now, 'summary'),
    });
  if (old.ioctl !== now.ioctl)
    add({
      path: 'ioctl',
      before: old.ioctl,
      after: now.ioctl,
      summary: `ioctl ${old.ioctl ?? 'none'} -> ${now.ioctl ?? 'none'}`,
      loc: c.inTo(now, 'ioctl'),
    });
  diffDivergences(c, 'message', name, old.divergences, now.divergences, c.inTo(now));
}

/** Divergences are findings about implementations: reported, never breaking. */
export function diffDivergences(
  c: DiffCollector,
  entity: 'message' | 'protocol-feature' | 'payload' | 'enum',
  name: string,
  before: { implementations: string[]; summary: string }[] | undefined,
  after: { implementations: string[]; summary: string }[] | undefined,
  loc: ReturnType<DiffCollector['inTo']>,
): void {
  if (same(before ?? [], after ?? [])) return;
  const a = before ?? [];
  const b = after ?? [];
  const added = b.filter((d) => !a.some((x) => same(x, d)));
  const removed = a.filter((d) => !b.some((x) => same(x, d)));
  const who = (list: typeof a) => [...new Set(list.flatMap((d) => d.implementations))].join(', ');
  const parts = [
    added.length > 0 ? `${added.length} recorded or reworded (${who(added)})` : '',
    removed.length > 0 ? `${removed.length} dropped or reworded (${who(removed)})` : '',
  ].filter(Boolean);
  c.add({
    kind: 'changed',
    entity,
    name,
    path: 'divergences',
    before: a,
    after: b,
    summary: `divergences: ${parts.join('; ')}`,
    loc,
  });
}

export function diffMessages(c: DiffCollector): void {
  const matched = new Set<ChannelMessage>();
  for (const old of c.from.messages) {
    const now = c.to.messages.find((m) => sameItem(old, m) && !matched.has(m));
    if (!now) {
      reportRemoval(c, 'message', old, old.channel, old.id, 'message-removed');
      continue;
    }
    matched.add(now);
    compareMessage(c, old, now);
  }
  for (const now of c.to.messages) {
    if (!matched.has(now)) reportAddition(c, 'message', now, now.channel, now.id, 'id');
  }
}
