/** Prose: every message and bit has its section and its table marker; every name it mentions exists. */
import type { SpecModel } from '../load.js';
import { Findings, type LintRule } from './rule.js';
import { structsOf } from '../layout.js';
import { didYouMean } from './suggest.js';
import { clarificationProblems } from '../provenance.js';

/** Every constant name a spec version defines, mapped to what it is. */
export function knownConstants(model: SpecModel): Map<string, string> {
  const known = new Map<string, string>();
  const add = (name: string, what: string): void => {
    if (!known.has(name)) known.set(name, what);
  };
  for (const m of model.messages) {
    add(m.name, 'message');
    (m.aliases ?? []).forEach((a) => add(a, `former name of ${m.name}`));
  }
  for (const b of model.protocolFeatures) {
    add(b.name, 'protocol feature');
    (b.aliases ?? []).forEach((a) => add(a, `other name of ${b.name}`));
  }
  for (const b of model.virtioFeatures) {
    add(b.name, 'virtio feature');
    (b.aliases ?? []).forEach((a) => add(a, `other name of ${b.name}`));
  }
  for (const e of model.enums) for (const v of e.values) add(v.name, `${e.name} value`);
  for (const flag of model.header.flags) add(flag.name, 'header flag');
  for (const c of model.constants) add(c.name, 'constant');
  for (const ring of [model.rings.split, model.rings.packed])
    for (const c of ring.constants) add(c.name, `${ring.ring} ring constant`);
  for (const r of model.registry) add(r.name, `registry entry (${r.status})`);
  return known;
}

export const proseSections: LintRule = {
  id: 'prose-section',
  description:
    'Every message, protocol feature and virtio feature has exactly one section named after it, carrying its table marker.',
  check({ model }) {
    const f = new Findings(this.id, model);
    const sections = new Map<string, number>();
    for (const chapter of model.prose)
      for (const s of chapter.sections) sections.set(s.anchor, (sections.get(s.anchor) ?? 0) + 1);
    const markers = new Set<string>();
    for (const chapter of model.prose)
      for (const m of chapter.markers) if (m.attributes.name) markers.add(`${m.kind}:${m.attributes.name}`);
    const expect = (entity: object, name: string, marker: string): void => {
      const count = sections.get(name) ?? 0;
      if (count === 0) f.at(entity, ['name'], `${name} has no prose section; add a heading "${name}" to a chapter`);
      if (count > 1) f.at(entity, ['name'], `${name} has ${count} prose sections; anchors must be unique`);
      if (!markers.has(`${marker}:${name}`))
        f.at(entity, ['name'], `no ::${marker}{name=${name}} marker in the prose; the section must show the table`);
    };
    model.messages.forEach((m) => expect(m, m.name, 'message'));
    model.protocolFeatures.forEach((b) => expect(b, b.name, 'feature'));
    model.virtioFeatures.forEach((b) => expect(b, b.name, 'feature'));
    // Anchors of other sections must be unique too, or links become ambiguous.
    for (const chapter of model.prose) {
      const seen = new Set<string>();
      for (const s of chapter.sections) {
        if (seen.has(s.anchor) && !/^[A-Z]/.test(s.anchor))
          f.atLocation(s.loc, `heading "${s.title}" repeats an anchor in this chapter`);
        seen.add(s.anchor);
      }
    }
    return f.issues;
  },
};

export const proseMentions: LintRule = {
  id: 'prose-mention',
  description: 'Every protocol constant the prose mentions is defined by the tables.',
  check({ model }) {
    const f = new Findings(this.id, model);
    const known = knownConstants(model);
    for (const chapter of model.prose) {
      for (const mention of chapter.mentions) {
        if (!known.has(mention.name))
          f.atLocation(
            mention.loc,
            `${mention.name} is not a message, feature, flag or constant of this spec version${didYouMean(mention.name, known.keys())}`,
          );
      }
    }
    return f.issues;
  },
};

const TABLES = new Set([
  'frontend-messages',
  'backend-messages',
  'protocol-features',
  'virtio-features',
  'constants',
  'registry',
  'preconditions',
  'ring-states',
  'header',
  'divergences',
]);

export const proseMarkers: LintRule = {
  id: 'prose-marker',
  description: 'Every table marker in the prose names something that exists.',
  check({ model }) {
    const f = new Findings(this.id, model);
    const messages = new Set(model.messages.map((m) => m.name));
    const features = new Set([...model.protocolFeatures, ...model.virtioFeatures].map((b) => b.name));
    const payloads = new Set(structsOf(model).map((p) => p.name));
    const enums = new Set(model.enums.map((e) => e.name));
    const byKind: Record<string, (attrs: Record<string, string>) => string | undefined> = {
      message: (a) =>
        a.name && messages.has(a.name)
          ? undefined
          : `unknown message "${a.name ?? ''}"${didYouMean(a.name ?? '', messages)}`,
      feature: (a) =>
        a.name && features.has(a.name)
          ? undefined
          : `unknown feature "${a.name ?? ''}"${didYouMean(a.name ?? '', features)}`,
      payload: (a) =>
        a.name && payloads.has(a.name)
          ? undefined
          : `unknown payload "${a.name ?? ''}"${didYouMean(a.name ?? '', payloads)}`,
      enum: (a) =>
        a.name && enums.has(a.name) ? undefined : `unknown enum "${a.name ?? ''}"${didYouMean(a.name ?? '', enums)}`,
      ring: (a) =>
        a.layout === 'split' || a.layout === 'packed'
          ? undefined
          : `ring layout must be split or packed, not "${a.layout ?? ''}"`,
      clarification: (a) => clarificationProblems(a).join('; ') || undefined,
      table: (a) =>
        a.of && TABLES.has(a.of) ? undefined : `unknown table "${a.of ?? ''}" (known: ${[...TABLES].join(', ')})`,
    };
    for (const chapter of model.prose) {
      for (const marker of chapter.markers) {
        const check = byKind[marker.kind];
        const problem = check
          ? check(marker.attributes)
          : `unknown marker ::${marker.kind} (known: ${Object.keys(byKind).join(', ')})`;
        if (problem) f.atLocation(marker.loc, problem);
      }
    }
    return f.issues;
  },
};

export const proseLinks: LintRule = {
  id: 'prose-link',
  description: 'Every in-document link (#anchor) in the prose points at a section of the same version.',
  check({ model }) {
    const f = new Findings(this.id, model);
    const anchors = new Set(model.prose.flatMap((c) => c.sections.map((s) => s.anchor)));
    for (const chapter of model.prose) {
      for (const link of chapter.links) {
        if (!link.url.startsWith('#')) continue;
        const anchor = decodeURIComponent(link.url.slice(1));
        if (!anchors.has(anchor))
          f.atLocation(
            link.loc,
            `link to #${anchor}, but no section has that anchor in this version${didYouMean(anchor, anchors)}`,
          );
      }
    }
    return f.issues;
  },
};
