/** Uniqueness of names and numbers, and that every reference resolves. */
import type { SpecModel } from '../load.js';
import { isPrimitive } from '../layout.js';
import type { Condition } from '../schema.js';
import { Findings, type LintRule } from './rule.js';
import { didYouMean } from './suggest.js';

/** Reports every name or number seen twice within one list. */
function duplicates<T extends object>(
  findings: Findings,
  items: T[],
  key: (item: T) => string,
  what: string,
  sub: string,
): void {
  const first = new Map<string, T>();
  for (const item of items) {
    const k = key(item);
    const earlier = first.get(k);
    if (earlier) {
      findings.at(item, [sub], `${what} ${k} is used twice (first at line ${findings.lineOf(earlier)})`);
    } else {
      first.set(k, item);
    }
  }
}

export const uniqueIds: LintRule = {
  id: 'unique-id',
  description: 'Message ids are unique per channel.',
  check({ model }) {
    const f = new Findings(this.id, model);
    for (const channel of ['frontend', 'backend'] as const) {
      duplicates(
        f,
        model.messages.filter((m) => m.channel === channel),
        (m) => String(m.id),
        `${channel} message id`,
        'id',
      );
    }
    return f.issues;
  },
};

export const uniqueBits: LintRule = {
  id: 'unique-bit',
  description:
    'Feature bits are unique within protocol features and within virtio features (device bits within their device, and apart from transport bits).',
  check({ model }) {
    const f = new Findings(this.id, model);
    duplicates(f, model.protocolFeatures, (b) => String(b.bit), 'protocol feature bit', 'bit');
    // Device-specific bits (scope net, blk) reuse numbers across devices, never a transport bit.
    const devices = new Set(model.virtioFeatures.map((b) => b.scope).filter((s) => s === 'net' || s === 'blk'));
    const common = model.virtioFeatures.filter((b) => b.scope !== 'net' && b.scope !== 'blk');
    duplicates(f, common, (b) => String(b.bit), 'virtio feature bit', 'bit');
    for (const device of devices)
      duplicates(
        f,
        [...common, ...model.virtioFeatures.filter((b) => b.scope === device)],
        (b) => String(b.bit),
        `virtio feature bit (${device})`,
        'bit',
      );
    return f.issues;
  },
};

export const uniqueNames: LintRule = {
  id: 'unique-name',
  description: 'Names (and aliases) of messages, features, payloads and enums are unique.',
  check({ model }) {
    const f = new Findings(this.id, model);
    const constants: { entity: object; name: string }[] = [];
    for (const m of model.messages)
      for (const n of [m.name, ...(m.aliases ?? [])]) constants.push({ entity: m, name: n });
    for (const b of model.protocolFeatures)
      for (const n of [b.name, ...(b.aliases ?? [])]) constants.push({ entity: b, name: n });
    for (const b of model.virtioFeatures)
      for (const n of [b.name, ...(b.aliases ?? [])]) constants.push({ entity: b, name: n });
    const seen = new Set<string>();
    for (const c of constants) {
      if (seen.has(c.name)) f.at(c.entity, ['name'], `name ${c.name} is used twice`);
      seen.add(c.name);
    }
    const types = [...model.payloads, ...model.enums, ...model.rings.split.structs, ...model.rings.packed.structs];
    duplicates(f, types, (t) => t.name, 'type name', 'name');
    return f.issues;
  },
};

/** Every protocol-feature name the model knows, aliases included, mapped to its canonical entry. */
export function protocolFeatureNames(model: SpecModel): Set<string> {
  return new Set(model.protocolFeatures.map((b) => b.name));
}

export function conditionNames(condition: Condition | undefined): {
  protocol: string[];
  virtio: string[];
  messages: string[];
} {
  const out = { protocol: [] as string[], virtio: [] as string[], messages: [] as string[] };
  const walk = (c: Condition | undefined): void => {
    if (!c) return;
    if ('protocolFeature' in c) out.protocol.push(c.protocolFeature);
    else if ('virtioFeature' in c) out.virtio.push(c.virtioFeature);
    else if ('virtioFeatureOffered' in c) out.virtio.push(c.virtioFeatureOffered);
    else if ('receivedBefore' in c) out.messages.push(c.receivedBefore);
    else if ('all' in c) c.all.forEach(walk);
    else if ('any' in c) c.any.forEach(walk);
    else walk(c.not);
  };
  walk(condition);
  return out;
}

export const references: LintRule = {
  id: 'unresolved-reference',
  description: 'Every payload, enum, feature and message a table names exists (by its canonical name).',
  check({ model }) {
    const f = new Findings(this.id, model);
    const payloads = new Set(model.payloads.map((p) => p.name));
    const structs = new Set([
      ...payloads,
      ...model.rings.split.structs.map((s) => s.name),
      ...model.rings.packed.structs.map((s) => s.name),
    ]);
    const enums = new Set(model.enums.map((e) => e.name));
    const protocol = protocolFeatureNames(model);
    const virtio = new Set(model.virtioFeatures.map((b) => b.name));
    const messages = new Set(model.messages.map((m) => m.name));
    const candidates: Record<string, Set<string>> = {
      payload: payloads,
      struct: structs,
      enum: enums,
      'protocol feature': protocol,
      'virtio feature': virtio,
      message: messages,
    };
    const need = (ok: boolean, entity: object, sub: (string | number)[], what: string, name: string): void => {
      if (!ok) f.at(entity, sub, `${what} ${name} does not exist${didYouMean(name, candidates[what] ?? [])}`);
    };

    for (const m of model.messages) {
      if (m.request !== null) need(payloads.has(m.request), m, ['request'], 'payload', m.request);
      if ('payload' in m.reply && m.reply.payload)
        need(payloads.has(m.reply.payload), m, ['reply', 'payload'], 'payload', m.reply.payload);
      if ('protocolFeature' in m.reply && m.reply.protocolFeature)
        need(
          protocol.has(m.reply.protocolFeature),
          m,
          ['reply', 'protocolFeature'],
          'protocol feature',
          m.reply.protocolFeature,
        );
      for (const side of ['request', 'reply'] as const) {
        const feature = m.fds[side].protocolFeature;
        if (feature) need(protocol.has(feature), m, ['fds', side, 'protocolFeature'], 'protocol feature', feature);
      }
      (m.gate.protocolFeatures ?? []).forEach((n, i) =>
        need(protocol.has(n), m, ['gate', 'protocolFeatures', i], 'protocol feature', n),
      );
      (m.gate.virtioFeatures ?? []).forEach((n, i) =>
        need(virtio.has(n), m, ['gate', 'virtioFeatures', i], 'virtio feature', n),
      );
    }
    const allStructs = [...model.payloads, ...model.rings.split.structs, ...model.rings.packed.structs];
    for (const p of allStructs) {
      p.fields.forEach((field, i) => {
        if (!isPrimitive(field.type)) need(structs.has(field.type), p, ['fields', i, 'type'], 'struct', field.type);
        if (field.enum) need(enums.has(field.enum), p, ['fields', i, 'enum'], 'enum', field.enum);
      });
      if (p.extension)
        need(
          protocol.has(p.extension.protocolFeature),
          p,
          ['extension', 'protocolFeature'],
          'protocol feature',
          p.extension.protocolFeature,
        );
    }
    for (const b of model.protocolFeatures) {
      (b.requires ?? []).forEach((n, i) => need(protocol.has(n), b, ['requires', i], 'protocol feature', n));
    }
    for (const rule of model.rules.preconditions) {
      rule.messages.forEach((n, i) => need(messages.has(n), rule, ['messages', i], 'message', n));
      if (rule.before) need(messages.has(rule.before), rule, ['before'], 'message', rule.before);
      const names = conditionNames(rule.condition);
      names.protocol.forEach((n) => need(protocol.has(n), rule, ['condition'], 'protocol feature', n));
      names.virtio.forEach((n) => need(virtio.has(n), rule, ['condition'], 'virtio feature', n));
      names.messages.forEach((n) => need(messages.has(n), rule, ['condition'], 'message', n));
    }
    for (const t of model.rules.ringStates.transitions) {
      need(messages.has(t.message), t, ['message'], 'message', t.message);
      const names = conditionNames(t.condition);
      names.protocol.forEach((n) => need(protocol.has(n), t, ['condition'], 'protocol feature', n));
      names.virtio.forEach((n) => need(virtio.has(n), t, ['condition'], 'virtio feature', n));
    }
    return f.issues;
  },
};

export const fdRules: LintRule = {
  id: 'fd-rule',
  description:
    "A message's fd rule fits its payload: per-region needs a counted array, invalid-fd needs an invalid_fd bit, feature rules name their feature.",
  check({ model }) {
    const f = new Findings(this.id, model);
    const payloads = new Map(model.payloads.map((p) => [p.name, p]));
    for (const m of model.messages) {
      for (const side of ['request', 'reply'] as const) {
        const spec = m.fds[side];
        const name = side === 'request' ? m.request : 'payload' in m.reply ? m.reply.payload : null;
        const payload = name ? payloads.get(name) : undefined;
        const where = ['fds', side, 'rule'];
        if (name && !payload) continue; // reported by unresolved-reference
        if (
          spec.rule === 'one-per-region' &&
          !payload?.fields.some((fl) => typeof fl.count === 'object' && 'field' in fl.count)
        ) {
          f.at(
            m,
            where,
            `${m.name}: fd rule one-per-region needs a ${side} payload with a counted array, but ${name ?? 'there is no payload'}`,
          );
        }
        if (
          spec.rule === 'one-unless-invalid-fd' &&
          !payload?.fields.some((fl) => fl.bits?.some((b) => b.name === 'invalid_fd'))
        ) {
          f.at(
            m,
            where,
            `${m.name}: fd rule one-unless-invalid-fd needs an invalid_fd bit in the ${side} payload (${name ?? 'none'})`,
          );
        }
        if (spec.rule === 'one-if-feature' && !spec.protocolFeature) {
          f.at(m, where, `${m.name}: fd rule one-if-feature must name its protocolFeature`);
        }
        if (spec.rule === 'one-on-success' && !payload?.fields.some((fl) => fl.name === 'value')) {
          f.at(m, where, `${m.name}: fd rule one-on-success needs a ${side} status value (a U64 payload)`);
        }
      }
    }
    return f.issues;
  },
};
