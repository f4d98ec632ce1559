/** Feature dependencies and gating agree with each other and with history. */
import { compareVersions } from '../repository.js';
import { Findings, type LintRule } from './rule.js';

export const featureRequires: LintRule = {
  id: 'feature-requires',
  description: 'A protocol feature requires only other, older-or-equal features, without cycles.',
  check({ model }) {
    const f = new Findings(this.id, model);
    const byName = new Map(model.protocolFeatures.map((b) => [b.name, b]));
    for (const b of model.protocolFeatures) {
      (b.requires ?? []).forEach((name, i) => {
        const dep = byName.get(name);
        if (name === b.name) f.at(b, ['requires', i], `${b.name} requires itself`);
        else if (dep && compareVersions(dep.since, b.since) > 0)
          f.at(
            b,
            ['requires', i],
            `${b.name} (since ${b.since}) requires ${name}, which only exists since ${dep.since}`,
          );
      });
      if ((b.requires ?? []).includes(b.name)) continue;
      // Depth-first walk: reaching b again through its requirements is a cycle.
      const stack = [...(b.requires ?? [])];
      const seen = new Set<string>();
      while (stack.length > 0) {
        const name = stack.pop() as string;
        if (name === b.name && seen.size > 0) {
          f.at(b, ['requires'], `${b.name} depends on itself through its requirements`);
          break;
        }
        if (seen.has(name)) continue;
        seen.add(name);
        stack.push(...(byName.get(name)?.requires ?? []));
      }
    }
    return f.issues;
  },
};

export const gateSince: LintRule = {
  id: 'gate-since',
  description: 'A message is never older than the features that gate it, nor than its payloads.',
  check({ model }) {
    const f = new Findings(this.id, model);
    const features = new Map([...model.protocolFeatures, ...model.virtioFeatures].map((b) => [b.name, b]));
    const payloads = new Map(model.payloads.map((p) => [p.name, p]));
    for (const m of model.messages) {
      const gates = [...(m.gate.protocolFeatures ?? []), ...(m.gate.virtioFeatures ?? [])];
      for (const name of gates) {
        const feature = features.get(name);
        if (feature && compareVersions(feature.since, m.since) > 0)
          f.at(
            m,
            ['gate'],
            `${m.name} (since ${m.since}) is gated by ${name}, which only exists since ${feature.since}`,
          );
      }
      const used = [m.request, 'payload' in m.reply ? m.reply.payload : null].filter((p): p is string => p !== null);
      for (const name of used) {
        const payload = payloads.get(name);
        if (payload && compareVersions(payload.since, m.since) > 0)
          f.at(
            m,
            ['since'],
            `${m.name} (since ${m.since}) uses payload ${name}, which only exists since ${payload.since}`,
          );
      }
    }
    return f.issues;
  },
};
