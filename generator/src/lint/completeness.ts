/**
 * Rules that catch what a contributor forgets: placeholders left by `vhost-user new`, payloads
 * and enums no page shows, rules meant to cover every message of a channel that miss one, rules
 * without provenance, and headings whose words only make sense in the draft.
 */
import type { SpecModel } from '../load.js';
import type { PathSegment } from '../yaml-file.js';
import { Findings, type LintRule } from './rule.js';

/** The prefix of every placeholder `vhost-user new` writes. */
const PLACEHOLDER = /^TODO\b/;

/** The YAML entities of a version whose fields a person writes. */
function entities(model: SpecModel): { what: string; entity: object }[] {
  return [
    ...model.messages.map((m) => ({ what: m.name, entity: m })),
    ...model.protocolFeatures.map((b) => ({ what: b.name, entity: b })),
    ...model.virtioFeatures.map((b) => ({ what: b.name, entity: b })),
    ...model.payloads.map((p) => ({ what: p.name, entity: p })),
    ...model.enums.map((e) => ({ what: e.name, entity: e })),
    ...model.constants.map((c) => ({ what: c.name, entity: c })),
    ...model.registry.map((r) => ({ what: r.name, entity: r })),
    ...model.rules.preconditions.map((r) => ({ what: r.id, entity: r })),
  ];
}

/** Every string inside `value` with its path, so a finding points at the value itself. */
function* strings(value: unknown, path: PathSegment[] = []): Generator<{ path: PathSegment[]; text: string }> {
  if (typeof value === 'string') yield { path, text: value };
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* strings(v, [...path, i]);
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) if (k !== 'channel') yield* strings(v, [...path, k]);
}

export const fillIn: LintRule = {
  id: 'fill-in',
  description:
    'No placeholder written by `vhost-user new` (a value starting with TODO, a name ending in _TODO) is left.',
  check({ model }) {
    const f = new Findings(this.id, model);
    for (const { what, entity } of entities(model)) {
      for (const { path, text } of strings(entity)) {
        const isName = path[path.length - 1] === 'name';
        if (PLACEHOLDER.test(text))
          f.at(entity, path, `${what}: fill in ${path.join('.')} (placeholder: "${text.replace(/^TODO:?\s*/, '')}")`);
        else if (isName && /_TODO$/.test(text))
          f.at(entity, path, `${what}: name the value ${text} (a placeholder written by vhost-user new)`);
      }
    }
    for (const chapter of model.prose) {
      chapter.markdown.split('\n').forEach((line, i) => {
        if (PLACEHOLDER.test(line.trim()))
          f.atLocation(
            { file: chapter.displayPath, line: i + 1, column: line.search(/\S/) + 1 },
            `fill in this paragraph (placeholder: "${line.trim().replace(/^TODO:?\s*/, '')}")`,
          );
      });
    }
    return f.issues;
  },
};

export const proseShown: LintRule = {
  id: 'prose-shown',
  description: 'Every payload and enum is shown by a ::payload or ::enum marker somewhere in the prose.',
  check({ model, repo }) {
    // Frozen releases predate this rule (1.0 to 1.2 never showed VringAddrFlags); only the draft can change.
    if (model !== repo.draft) return [];
    const f = new Findings(this.id, model);
    const shown = new Set<string>();
    for (const chapter of model.prose)
      for (const m of chapter.markers) if (m.attributes.name) shown.add(`${m.kind}:${m.attributes.name}`);
    for (const p of model.payloads)
      if (!shown.has(`payload:${p.name}`))
        f.at(
          p,
          ['name'],
          `payload ${p.name} is not shown anywhere: add ::payload{name=${p.name}} where the prose introduces it (payloads of general use go in message-format.md)`,
        );
    for (const e of model.enums)
      if (!shown.has(`enum:${e.name}`))
        f.at(
          e,
          ['name'],
          `enum ${e.name} is not shown anywhere: add ::enum{name=${e.name}} next to the payload that uses it`,
        );
    return f.issues;
  },
};

export const selectorComplete: LintRule = {
  id: 'rule-selector',
  description:
    'A precondition marked `covers: { channel }` lists every message of that channel (but its `except`), and nothing else.',
  check({ model }) {
    const f = new Findings(this.id, model);
    for (const rule of model.rules.preconditions) {
      if (!rule.covers) continue;
      const except = new Set(rule.covers.except ?? []);
      const channel = model.messages.filter((m) => m.channel === rule.covers?.channel);
      const listed = new Set(rule.messages);
      const missing = channel.filter((m) => !listed.has(m.name) && !except.has(m.name)).map((m) => m.name);
      if (missing.length > 0)
        f.at(
          rule,
          ['messages'],
          `${rule.id} covers every ${rule.covers.channel} message but does not list ${missing.join(', ')}; add ${missing.length > 1 ? 'them' : 'it'} to messages (or to covers.except, saying why in the summary)`,
        );
      const names = new Set(channel.map((m) => m.name));
      rule.messages.forEach((n, i) => {
        if (!names.has(n) && model.messages.some((m) => m.name === n))
          f.at(
            rule,
            ['messages', i],
            `${rule.id} covers ${rule.covers?.channel} messages, but ${n} is on the other channel`,
          );
      });
    }
    return f.issues;
  },
};

export const ruleProvenance: LintRule = {
  id: 'provenance',
  description:
    'In the draft, every session rule says where it comes from: the upstream text (with the QEMU version) or a clarification (reason, agreeing implementations, upstream level).',
  check({ model, repo }) {
    if (model !== repo.draft) return [];
    const f = new Findings(this.id, model);
    const hint =
      'add provenance: { source: upstream, qemu: <version> } or { source: clarification, reason, agree: [...], upstreamLevel }';
    for (const r of model.rules.preconditions)
      if (!r.provenance) f.at(r, ['id'], `precondition ${r.id} has no provenance; ${hint}`);
    model.rules.ringStates.transitions.forEach((t) => {
      if (!t.provenance) f.at(t, ['message'], `ring transition ${t.message} has no provenance; ${hint}`);
    });
    model.rules.ringStates.behaviour.forEach((b, i) => {
      if (!b.provenance)
        f.atLocation(
          model.where(model.rules, 'ringStates', 'behaviour', i),
          `ring state behaviour [${b.state.join(', ')}] has no provenance; ${hint}`,
        );
    });
    return f.issues;
  },
};

/** Words that describe the draft itself; frozen into a release anchor they become wrong. */
const DRAFT_WORDS = /\b(draft|drafts|proposed|proposal|proposals|unreleased|upcoming|todo|wip)\b/i;

export const draftHeadings: LintRule = {
  id: 'draft-heading',
  description:
    'No heading uses words that are only true of the draft (draft, proposed, unreleased, ...): `release` would freeze them into an anchor.',
  check({ model, repo }) {
    // Only the draft can still be renamed; a frozen release keeps its anchors.
    if (model !== repo.draft) return [];
    const f = new Findings(this.id, model);
    for (const chapter of model.prose)
      for (const s of chapter.sections) {
        const word = DRAFT_WORDS.exec(s.title)?.[1];
        if (!word || /^[A-Z0-9_]+$/.test(s.title)) continue;
        f.atLocation(
          s.loc,
          `heading "${s.title}" says "${word}"; once released its anchor #${s.anchor} is frozen and the word is wrong. Name the section after its content (or the release that adds it)`,
          'warning',
        );
      }
    return f.issues;
  },
};
