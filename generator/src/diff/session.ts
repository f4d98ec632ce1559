/** Session rules: message preconditions and the ring state machine. */
import type { SpecModel } from '../load.js';
import type { Condition, Precondition, RingTransition } from '../schema.js';
import { canonical, DiffCollector, listOrNone, minus, same, sameItem } from './collect.js';

/** True when `condition` can only hold for peers that know something `model` does not have. */
export function needsSomethingNew(condition: Condition | undefined, model: SpecModel): boolean {
  if (!condition) return false;
  const knowsMessage = (name: string) => model.messages.some((m) => sameItem(m, { name }));
  if ('protocolFeature' in condition)
    return !model.protocolFeatures.some((f) => sameItem(f, { name: condition.protocolFeature }));
  if ('virtioFeature' in condition)
    return !model.virtioFeatures.some((f) => sameItem(f, { name: condition.virtioFeature }));
  if ('virtioFeatureOffered' in condition)
    return !model.virtioFeatures.some((f) => sameItem(f, { name: condition.virtioFeatureOffered }));
  if ('receivedBefore' in condition) return !knowsMessage(condition.receivedBefore);
  if ('all' in condition) return condition.all.some((c) => needsSomethingNew(c, model));
  if ('any' in condition) return condition.any.every((c) => needsSomethingNew(c, model));
  return false;
}

function released(model: SpecModel, names: string[]): string[] {
  return names.filter((name) => model.messages.some((m) => sameItem(m, { name })));
}

function comparePrecondition(c: DiffCollector, old: Precondition, now: Precondition): void {
  const add = c.changedReporter('precondition', now.id);
  if (old.level !== now.level)
    add({
      path: 'level',
      before: old.level,
      after: now.level,
      summary: `${now.id}: ${old.level} -> ${now.level}`,
      rule: 'normative-level-changed',
      loc: c.inTo(now, 'level'),
    });
  if (old.actor !== now.actor)
    add({
      path: 'actor',
      before: old.actor,
      after: now.actor,
      summary: `${now.id}: binds the ${now.actor} instead of the ${old.actor}`,
      rule: 'precondition-strengthened',
      loc: c.inTo(now, 'actor'),
    });
  if (old.kind !== now.kind)
    add({
      path: 'kind',
      before: old.kind,
      after: now.kind,
      summary: `${now.id}: ${old.kind} -> ${now.kind}`,
      rule: 'precondition-strengthened',
      loc: c.inTo(now, 'kind'),
    });
  if (!same(old.condition ?? null, now.condition ?? null) || old.before !== now.before) {
    add({
      path: 'condition',
      before: old.condition ?? old.before,
      after: now.condition ?? now.before,
      summary: `${now.id}: condition changed`,
      rule: 'precondition-strengthened',
      loc: c.inTo(now, 'condition'),
    });
  }
  const gained = minus(now.messages, old.messages);
  const gainedReleased = released(c.from, gained);
  const gainedNew = minus(gained, gainedReleased);
  const lost = minus(old.messages, now.messages);
  if (gainedReleased.length > 0)
    add({
      path: 'messages',
      before: old.messages,
      after: now.messages,
      summary: `${now.id} now also binds released ${listOrNone(gainedReleased)}`,
      rule: 'precondition-strengthened',
      loc: c.inTo(now, 'messages'),
    });
  if (gainedNew.length > 0)
    add({
      path: 'messages',
      before: old.messages,
      after: now.messages,
      summary: `${now.id} extended to the new ${listOrNone(gainedNew)}`,
      loc: c.inTo(now, 'messages'),
    });
  if (lost.length > 0)
    add({
      path: 'messages',
      before: old.messages,
      after: now.messages,
      summary: `${now.id} no longer binds ${listOrNone(lost)}`,
      rule: 'precondition-removed',
      loc: c.inTo(now, 'messages'),
    });
  if (old.summary !== now.summary)
    add({
      path: 'summary',
      before: old.summary,
      after: now.summary,
      summary: `${now.id}: summary reworded`,
      loc: c.inTo(now, 'summary'),
    });
}

function diffPreconditions(c: DiffCollector): void {
  const before = c.from.rules.preconditions;
  const after = c.to.rules.preconditions;
  for (const old of before) {
    const now = after.find((p) => p.id === old.id);
    if (now) comparePrecondition(c, old, now);
    else
      c.add({
        kind: 'removed',
        entity: 'precondition',
        name: old.id,
        summary: `precondition ${old.id} (${old.level}) removed: ${old.summary.trim()}`,
        rule: 'precondition-removed',
        loc: c.inFrom(old),
      });
  }
  for (const now of after) {
    if (before.some((p) => p.id === now.id)) continue;
    const binds = released(c.from, now.messages);
    const onlyNew = binds.length === 0 || needsSomethingNew(now.condition, c.from);
    c.add({
      kind: 'added',
      entity: 'precondition',
      name: now.id,
      summary: onlyNew
        ? `precondition ${now.id} (${now.level}) added; it only concerns what ${c.from.meta.version} did not have`
        : `precondition ${now.id} (${now.level}) added for released ${listOrNone(binds)}`,
      ...(onlyNew ? {} : { rule: 'precondition-strengthened' as const }),
      loc: c.inTo(now),
    });
  }
}

function transitionKey(t: RingTransition): string {
  return `${t.message}|${t.num ?? '*'}|${canonical(t.condition ?? null)}`;
}

function transitionName(t: RingTransition): string {
  return t.num === undefined ? t.message : `${t.message} (num ${t.num})`;
}

function describeEffect(t: RingTransition): string {
  return `${t.to.join('+')} (${t.scope}, ${t.timing ?? 'immediate'})`;
}

function diffTransitions(c: DiffCollector): void {
  const before = c.from.rules.ringStates.transitions;
  const after = c.to.rules.ringStates.transitions;
  const afterByKey = new Map(after.map((t) => [transitionKey(t), t]));
  const beforeKeys = new Set(before.map(transitionKey));
  for (const old of before) {
    const now = afterByKey.get(transitionKey(old));
    const name = transitionName(old);
    if (!now) {
      c.add({
        kind: 'removed',
        entity: 'ring-transition',
        name,
        before: describeEffect(old),
        summary: `${name} no longer makes rings ${old.to.join('+')}`,
        rule: 'ring-state-effect-changed',
        loc: c.inFrom(old),
      });
      continue;
    }
    if (
      old.scope !== now.scope ||
      (old.timing ?? 'immediate') !== (now.timing ?? 'immediate') ||
      !same(old.to, now.to)
    ) {
      c.add({
        kind: 'changed',
        entity: 'ring-transition',
        name,
        path: 'effect',
        before: describeEffect(old),
        after: describeEffect(now),
        summary: `${name}: ${describeEffect(old)} -> ${describeEffect(now)}`,
        rule: 'ring-state-effect-changed',
        loc: c.inTo(now),
      });
    }
    if (old.level !== now.level)
      c.add({
        kind: 'changed',
        entity: 'ring-transition',
        name,
        path: 'level',
        before: old.level,
        after: now.level,
        summary: `${name}: ${old.level} -> ${now.level}`,
        rule: 'normative-level-changed',
        loc: c.inTo(now, 'level'),
      });
    if (old.summary.trim() !== now.summary.trim())
      c.add({
        kind: 'changed',
        entity: 'ring-transition',
        name,
        path: 'summary',
        summary: `${name}: summary reworded`,
        loc: c.inTo(now, 'summary'),
      });
  }
  for (const now of after) {
    if (beforeKeys.has(transitionKey(now))) continue;
    const name = transitionName(now);
    const onlyNew = released(c.from, [now.message]).length === 0 || needsSomethingNew(now.condition, c.from);
    c.add({
      kind: 'added',
      entity: 'ring-transition',
      name,
      after: describeEffect(now),
      summary: `${name} makes rings ${describeEffect(now)}${onlyNew ? '' : ' (a new effect of a released message)'}`,
      ...(onlyNew ? {} : { rule: 'ring-state-effect-changed' as const }),
      loc: c.inTo(now),
    });
  }
}

function diffBehaviour(c: DiffCollector): void {
  const a = c.from.rules.ringStates;
  const b = c.to.rules.ringStates;
  const rulesOf = c.to.rules;
  if (!same(a.initial, b.initial)) {
    c.add({
      kind: 'changed',
      entity: 'ring-transition',
      name: 'initial state',
      before: a.initial,
      after: b.initial,
      summary: `rings start ${a.initial.join('+')} -> ${b.initial.join('+')}`,
      rule: 'ring-state-effect-changed',
      loc: c.inTo(rulesOf, 'ringStates', 'initial'),
    });
  }
  const key = (s: string[]) => [...s].sort().join('+');
  for (const old of a.behaviour) {
    const index = b.behaviour.findIndex((x) => key(x.state) === key(old.state));
    const now = b.behaviour[index];
    const name = `behaviour when ${key(old.state)}`;
    if (!now) {
      c.add({
        kind: 'removed',
        entity: 'ring-transition',
        name,
        summary: `${name} removed`,
        rule: 'ring-state-effect-changed',
        loc: c.inFrom(c.from.rules, 'ringStates', 'behaviour'),
      });
      continue;
    }
    const loc = c.inTo(rulesOf, 'ringStates', 'behaviour', index);
    if (old.level !== now.level)
      c.add({
        kind: 'changed',
        entity: 'ring-transition',
        name,
        path: 'level',
        before: old.level,
        after: now.level,
        summary: `${name}: ${old.level} -> ${now.level}`,
        rule: 'normative-level-changed',
        loc,
      });
    if (old.summary !== now.summary)
      c.add({ kind: 'changed', entity: 'ring-transition', name, path: 'summary', summary: `${name}: reworded`, loc });
  }
  for (const [index, now] of b.behaviour.entries()) {
    if (a.behaviour.some((x) => key(x.state) === key(now.state))) continue;
    c.add({
      kind: 'added',
      entity: 'ring-transition',
      name: `behaviour when ${key(now.state)}`,
      summary: `behaviour when ${key(now.state)} added (${now.level})`,
      rule: 'ring-state-effect-changed',
      loc: c.inTo(rulesOf, 'ringStates', 'behaviour', index),
    });
  }
}

export function diffSession(c: DiffCollector): void {
  diffPreconditions(c);
  diffTransitions(c);
  diffBehaviour(c);
}
