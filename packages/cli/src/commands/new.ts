/**
 * `vhost-user new message|backend-message|feature|payload|enum <NAME>`: scaffolds a proposal.
 * Picks the next free number (never a released, reserved or retired one), appends the YAML
 * stub (`since: draft`, `status: proposed`), adds the prose section with its marker to the
 * right chapter, adds the message to rules that select every message of its channel, and adds
 * a CHANGELOG line. Then it runs lint: what remains are the `fill-in` placeholders.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allVersions, checkRepository, formatIssue, loadRepository, type SpecRepository } from '@vhost-user/generator';
import { parse } from '../args.js';
import { SpecLoadFailure, UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { nextNumber } from '../scaffold/numbers.js';
import {
  enumYaml,
  featureYaml,
  kebab,
  messageYaml,
  namedSection,
  payloadYaml,
  typeParagraph,
  type Kind,
} from '../scaffold/templates.js';
import { findRoot } from '../sources.js';

export const NEW_HELP =
  'vhost-user new message|backend-message|feature|payload|enum <NAME> [--gate FEATURE,...] [--request Payload] [--chapter file.md]   scaffold a proposal';

const KINDS: readonly Kind[] = ['message', 'backend-message', 'feature', 'payload', 'enum'];

/** The chapter each kind's section goes in (CONTRIBUTING.md, "Conventions"). */
const CHAPTER: Record<Kind, string> = {
  message: 'frontend-messages.md',
  'backend-message': 'backend-messages.md',
  feature: 'protocol-features.md',
  payload: 'message-format.md',
  enum: 'message-format.md',
};

/** Constant names get their prefix when it is left out: `new feature FOO` -> VHOST_USER_PROTOCOL_F_FOO. */
export function canonicalName(kind: Kind, raw: string): string {
  if (kind === 'payload' || kind === 'enum') {
    if (!/^[A-Z][A-Za-z0-9]*$/.test(raw))
      throw new UsageError(`new ${kind}: "${raw}" must be a PascalCase type name such as VringAddr`);
    return raw;
  }
  const upper = raw.toUpperCase();
  if (!/^[A-Z][A-Z0-9_]*$/.test(upper))
    throw new UsageError(`new ${kind}: "${raw}" must be an UPPER_SNAKE_CASE name such as VHOST_USER_GET_FOO`);
  const prefix =
    kind === 'feature' ? 'VHOST_USER_PROTOCOL_F_' : kind === 'backend-message' ? 'VHOST_USER_BACKEND_' : 'VHOST_USER_';
  let name = upper.startsWith(prefix) ? upper : `${prefix}${upper.replace(/^VHOST_USER_/, '')}`;
  if (kind === 'message' && name.startsWith('VHOST_USER_BACKEND_'))
    throw new UsageError(`new message: ${name} reads as a back-end request; use "vhost-user new backend-message"`);
  if (kind === 'message' && name.startsWith('VHOST_USER_PROTOCOL_F_'))
    throw new UsageError(`new message: ${name} reads as a feature bit; use "vhost-user new feature"`);
  name = name.replace(/__+/g, '_');
  return name;
}

/** Names already taken in any version (constants, aliases, types), so a proposal never shadows one. */
function takenNames(repo: SpecRepository): Set<string> {
  const taken = new Set<string>();
  for (const model of allVersions(repo)) {
    for (const item of [...model.messages, ...model.protocolFeatures, ...model.virtioFeatures])
      for (const n of [item.name, ...(item.aliases ?? [])]) taken.add(n);
    for (const t of [...model.payloads, ...model.enums, ...model.rings.split.structs, ...model.rings.packed.structs])
      taken.add(t.name);
    for (const r of model.registry) taken.add(r.name);
  }
  return taken;
}

/** Inserts `item` at the end of the top-level list `key` of a YAML file, keeping every comment. */
export function appendToList(text: string, key: string, item: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`${key}:`));
  if (start < 0) return `${text.trimEnd()}\n${key}:\n${item.replace(/^\n/, '')}`;
  let end = lines.length;
  for (let i = start + 1; i < lines.length; i++) {
    if (/^[A-Za-z]/.test(lines[i] ?? '')) {
      end = i;
      break;
    }
  }
  while (end > start + 1 && (lines[end - 1] ?? '').trim() === '') end--;
  // Follow the file's style: a blank line between items when its items have one.
  const spaced = /\n\s*\n\s+- /.test(lines.slice(start, end).join('\n'));
  const before = lines.slice(0, end).join('\n');
  const after = lines.slice(end).join('\n').replace(/^\n*/, '');
  const body = item.replace(/^\n+/, '').replace(/\n*$/, '\n');
  return `${before}\n${spaced ? '\n' : ''}${body}${after ? `\n${after}` : ''}`;
}

/** Adds `name` to the `messages` of every precondition whose `covers` selects `channel`. */
export function addToSelectors(text: string, ids: string[], name: string): string {
  let out = text;
  for (const id of ids) {
    const lines = out.split('\n');
    const start = lines.findIndex((l) => l.trim() === `- id: ${id}`);
    if (start < 0) continue;
    const indent = (lines[start] ?? '').indexOf('-');
    let end = lines.length;
    for (let i = start + 1; i < lines.length; i++) {
      const l = lines[i] ?? '';
      if (l.trim() !== '' && l.search(/\S/) <= indent) {
        end = i;
        break;
      }
    }
    const at = lines.slice(start, end).findIndex((l) => /^\s*messages:/.test(l));
    if (at < 0) continue;
    const header = start + at;
    const flow = /^(\s*messages:\s*\[)(.*)\]\s*$/.exec(lines[header] ?? '');
    if (flow) {
      lines[header] = `${flow[1]}${flow[2]}, ${name}]`;
    } else {
      let last = header;
      while (/^\s*-\s+[A-Z]/.test(lines[last + 1] ?? '')) last++;
      const itemIndent = (lines[last] ?? '').match(/^\s*/)?.[0] ?? '      ';
      lines.splice(last + 1, 0, `${last === header ? `${itemIndent}  ` : itemIndent}- ${name}`);
    }
    out = lines.join('\n');
  }
  return out;
}

/** Adds one line at the top of CHANGELOG.md's "Unreleased" section. */
export function addChangelogLine(text: string, line: string): string {
  const match = /^## Unreleased[^\n]*\n\n?/m.exec(text);
  if (!match) return `${text.trimEnd()}\n\n## Unreleased\n\n${line}\n`;
  const at = match.index + match[0].length;
  return `${text.slice(0, at)}${line}\n${text.slice(at).startsWith('- ') ? '' : '\n'}${text.slice(at)}`.replace(
    /\n\n\n+/g,
    '\n\n',
  );
}

function splitList(value: string | boolean | undefined): string[] {
  return typeof value === 'string'
    ? value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
}

export function runNew(argv: string[], io: Io): number {
  const { values, positionals } = parse(
    argv,
    { gate: { type: 'string' }, request: { type: 'string' }, chapter: { type: 'string' } },
    'new',
  );
  const [kindArg, rawName, ...extra] = positionals;
  if (!kindArg || !(KINDS as readonly string[]).includes(kindArg))
    throw new UsageError(`new: the first argument must be one of ${KINDS.join(', ')} (got ${kindArg ?? 'nothing'})`);
  const kind = kindArg as Kind;
  if (!rawName) throw new UsageError(`new ${kind}: give the name, e.g. vhost-user new ${kind} ${example(kind)}`);
  if (extra.length > 0) throw new UsageError(`new: unexpected argument ${extra[0]}`);
  const root = findRoot(typeof values.root === 'string' ? values.root : io.cwd);
  const { repo, issues } = loadRepository(root);
  if (!repo) throw new SpecLoadFailure('the spec', issues);
  const name = canonicalName(kind, rawName);
  // A number reserved (or proposed) in the registry for exactly this name is the one to use.
  const space = kind === 'feature' ? 'protocol-feature' : kind === 'message' ? 'frontend' : 'backend';
  const reserved = repo.draft.registry.find(
    (r) => r.name === name && r.space === space && (r.status === 'reserved' || r.status === 'proposed'),
  );
  if (takenNames(repo).has(name) && !reserved)
    throw new UsageError(`new ${kind}: ${name} already exists (in the draft, a release or the registry)`);
  const draft = repo.draft;
  const features = new Set(draft.protocolFeatures.map((b) => b.name));
  const gate = splitList(values.gate).map((g) => canonicalName('feature', g));
  for (const g of gate)
    if (!features.has(g)) throw new UsageError(`new ${kind}: --gate ${g} is not a protocol feature of the draft`);
  const request = typeof values.request === 'string' ? values.request : null;
  if (request !== null && !draft.payloads.some((p) => p.name === request))
    throw new UsageError(`new ${kind}: --request ${request} is not a payload of the draft`);
  const chapter = typeof values.chapter === 'string' ? values.chapter : CHAPTER[kind];
  if (!draft.meta.prose.includes(chapter))
    throw new UsageError(
      `new ${kind}: --chapter ${chapter} is not listed in spec/spec.yaml (${draft.meta.prose.join(', ')})`,
    );

  const written: string[] = [];
  const update = (rel: string, change: (text: string) => string) => {
    const path = join(root, rel);
    const before = existsSync(path) ? readFileSync(path, 'utf8') : '';
    writeFileSync(path, change(before));
    written.push(rel);
  };

  let changelog: string;
  let what: string;
  if (kind === 'message' || kind === 'backend-message') {
    const channel = kind === 'message' ? 'frontend' : 'backend';
    const id = reserved?.number ?? nextNumber(repo, channel);
    const side = kind === 'message' ? 'front-end' : 'back-end';
    // Every back-end request travels on the channel BACKEND_REQ sets up.
    const backendReq = 'VHOST_USER_PROTOCOL_F_BACKEND_REQ';
    const gates = channel === 'backend' && !gate.includes(backendReq) ? [backendReq, ...gate] : gate;
    update(`spec/messages/${channel}.yaml`, (t) =>
      appendToList(t, 'messages', messageYaml({ name, id, gate: gates, request }, side)),
    );
    const selectors = draft.rules.preconditions.filter((r) => r.covers?.channel === channel).map((r) => r.id);
    if (selectors.length > 0) update('spec/rules/session.yaml', (t) => addToSelectors(t, selectors, name));
    what = `${side} request ${name}, id ${id}`;
    changelog = `- Added ${side} request \`${name}\` (id ${id})${gate.length > 0 ? `, gated by \`${gate.join('`, `')}\`` : ''} (proposed).`;
    update(
      `spec/prose/${chapter}`,
      (t) =>
        `${t.trimEnd()}\n${namedSection(name, 'message', `say when the ${side} sends this request, what the other side does, and what it answers; write the rules with the RFC 2119 keywords.`)}`,
    );
  } else if (kind === 'feature') {
    const bit = reserved?.number ?? nextNumber(repo, 'protocol-feature');
    update('spec/features/protocol.yaml', (t) => appendToList(t, 'protocolFeatures', featureYaml(name, bit)));
    what = `protocol feature ${name}, bit ${bit}`;
    changelog = `- Added protocol feature \`${name}\` (bit ${bit}) (proposed).`;
    update(
      `spec/prose/${chapter}`,
      (t) =>
        `${t.trimEnd()}\n${namedSection(name, 'feature', 'say what negotiating this bit changes, which messages it allows and which other bits it needs.')}`,
    );
  } else {
    const rel = `spec/payloads/${kebab(name)}.yaml`;
    const key = kind === 'payload' ? 'payloads' : 'enums';
    const stub = kind === 'payload' ? payloadYaml(name) : enumYaml(name);
    const header = existsSync(join(root, rel)) ? '' : `# ${name}, proposed in the draft.\n`;
    update(rel, (t) => appendToList(`${header}${t}`, key, stub));
    what = `${kind} ${name} in ${rel}`;
    changelog = `- Added ${kind} \`${name}\` (proposed).`;
    update(`spec/prose/${chapter}`, (t) => `${t.trimEnd()}\n${typeParagraph(name, kind)}`);
  }
  if (existsSync(join(root, 'CHANGELOG.md'))) update('CHANGELOG.md', (t) => addChangelogLine(t, changelog));

  // What is left is for a person: the placeholders in what this run wrote, reported by lint as fill-in.
  const after = checkRepository(root);
  const touched = new Set(written);
  const fillIn = after.issues.filter((i) => i.rule === 'fill-in' && touched.has(i.loc.file));
  const other = after.issues.filter((i) => i.rule !== 'fill-in' && i.severity === 'error');
  io.out(
    `added ${what}${reserved ? ` (the number spec/registry.yaml ${reserved.status === 'reserved' ? 'reserves' : 'proposes'} for it)` : ''}`,
  );
  for (const file of [...new Set(written)]) io.out(`  wrote ${file}`);
  if (fillIn.length > 0) {
    io.out(`\n${fillIn.length} field(s) to fill in (lint reports each until it is written):`);
    for (const issue of fillIn) io.out(`  ${formatIssue(issue)}`);
  }
  if (other.length > 0) {
    io.out(`\nlint also reports ${other.length} other error(s):`);
    for (const issue of other) io.out(`  ${formatIssue(issue)}`);
  }
  io.out(
    '\nnext: fill in the fields above, then `npm run lint`, `npm run generate`, and commit spec/, generated/ and CHANGELOG.md together (see CONTRIBUTING.md).',
  );
  return other.length > 0 ? 1 : 0;
}

function example(kind: Kind): string {
  return kind === 'payload' || kind === 'enum' ? 'ShMemStats' : kind === 'feature' ? 'SHMEM_STATS' : 'GET_SHMEM_STATS';
}
