/**
 * `vhost-user review --base <git-ref>`: one Markdown report for a pull request: semantic diff,
 * breaking verdict, generated API changes, CHANGELOG entry, acknowledgements, checklist.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkRepository,
  diffGeneratedApi,
  diffNativeApi,
  emitGenerated,
  unapprovedBreaks,
  type Change,
  type ChannelMessage,
  type SpecModel,
  type SpecRepository,
} from '@vhost-user/generator';
import { parse } from '../args.js';
import { changelogContradictions, newUnreleasedEntries } from '../changelog.js';
import { compare, type Comparison } from '../compare.js';
import { UsageError } from '../errors.js';
import { showFile } from '../git.js';
import {
  acknowledgementsNeeded,
  readImplementations,
  type AcknowledgementNeed,
  type ImplementationEntry,
} from '../governance.js';
import type { Io } from '../io.js';
import { cell, counts, diffMarkdown } from '../output/diff.js';
import { findRoot, resolveSource, workingSource, type SpecSource } from '../sources.js';

export const REVIEW_HELP =
  'vhost-user review --base <git-ref>   Markdown report for a pull request (e.g. the job summary)';

function verdictSection(cmp: Comparison): string[] {
  const breaking = cmp.diff.changes.filter((c) => c.breaking);
  const failing = unapprovedBreaks(cmp.diff);
  const head =
    failing.length > 0
      ? `**Breaking:** ${failing.length} unapproved breaking change(s) (${[...new Set(failing.map((c) => `\`${c.rule}\``))].join(', ')}).`
      : breaking.length > 0
        ? `**Breaking, approved:** all ${breaking.length} breaking change(s) are approved in \`spec/approvals.yaml\`.`
        : '**Not breaking:** no change breaks peers of the base version.';
  const lines = ['## Verdict', '', head];
  if (breaking.length > 0) {
    lines.push('', '| rule | category | item | change | approval |', '| --- | --- | --- | --- | --- |');
    for (const c of breaking)
      lines.push(
        `| \`${c.rule}\` | ${c.category} | \`${cell(c.name)}\` | ${cell(c.summary)} | ${c.approved ? cell(c.approved.reason) : 'not approved'} |`,
      );
  }
  for (const a of cmp.unused)
    lines.push('', `> Approval for \`${a.rule}\` \`${a.name}\` (${a.loc.file}:${a.loc.line}) matches no change.`);
  return lines;
}

async function apiSection(base: SpecSource, head: SpecSource): Promise<string[]> {
  const api = await diffGeneratedApi(base.model, head.model);
  const lines = ['## Generated TypeScript API', ''];
  const touched = api.files.filter((f) => f.added.length + f.removed.length + f.changed.length > 0);
  if (touched.length === 0)
    return [...lines, 'No exported name or declaration of `packages/codec/src/generated/` changes.'];
  lines.push('| file | added | removed | changed |', '| --- | --- | --- | --- |');
  const list = (items: string[]) => (items.length > 0 ? items.map((i) => `\`${cell(i)}\``).join('<br>') : '');
  for (const f of touched)
    lines.push(
      `| \`packages/codec/src/generated/${f.file}\` | ${list(f.added)} | ${list(f.removed)} | ${list(f.changed)} |`,
    );
  if (touched.some((f) => f.removed.length > 0))
    lines.push('', 'Exports are removed: code importing them from `@vhost-user/codec` stops compiling.');
  return lines;
}

/** Each added or changed message with the rules an implementer needs: gate, reply and fds. */
function messagesSection(changes: Change[], head: SpecModel): string[] {
  const names = [...new Set(changes.filter((c) => c.entity === 'message' && c.kind !== 'removed').map((c) => c.name))];
  const messages = names
    .map((n) => head.messages.find((m) => m.name === n))
    .filter((m): m is ChannelMessage => m !== undefined);
  if (messages.length === 0) return [];
  const reply = (m: ChannelMessage) =>
    m.reply.kind === 'always'
      ? `always: ${m.reply.payload ?? 'no body'}`
      : m.reply.kind === 'conditional'
        ? `${m.reply.payload ?? 'no body'} when ${m.reply.condition}`
        : m.reply.kind === 'ack'
          ? 'ack (with REPLY_ACK and need_reply)'
          : 'none';
  const fd = (f: ChannelMessage['fds']['request']) => `${f.rule}${f.protocolFeature ? ` (${f.protocolFeature})` : ''}`;
  const gate = (m: ChannelMessage) =>
    [...(m.gate.protocolFeatures ?? []), ...(m.gate.virtioFeatures ?? [])].map((g) => `\`${g}\``).join(', ') || 'none';
  const lines = [
    '## Messages added or changed',
    '',
    '| message | id | sent by | request | gate | reply | fds (request / reply) | status |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const m of messages)
    lines.push(
      `| \`${m.name}\` | ${m.id} | ${m.channel === 'frontend' ? 'front-end' : 'back-end'} | ${m.request ?? 'none'} | ${gate(m)} | ${cell(reply(m))} | ${fd(m.fds.request)} / ${fd(m.fds.reply)} | ${m.status}, since ${m.since} |`,
    );
  return lines;
}

async function nativeSection(base: SpecSource, head: SpecSource): Promise<string[]> {
  const api = await diffNativeApi(base.model, head.model);
  const lines = ['## Generated C and Rust API', ''];
  const touched = api.files.filter((f) => f.added.length + f.removed.length + f.changed.length > 0);
  if (touched.length === 0) return [...lines, 'No declaration of `generated/c/` or `generated/rust/` changes.'];
  lines.push('| file | added | removed | changed |', '| --- | --- | --- | --- |');
  const list = (items: string[]) => (items.length > 0 ? items.map((i) => `\`${cell(i)}\``).join('<br>') : '');
  for (const f of touched)
    lines.push(`| \`generated/${f.file}\` | ${list(f.added)} | ${list(f.removed)} | ${list(f.changed)} |`);
  if (touched.some((f) => f.removed.length > 0 || f.changed.length > 0))
    lines.push(
      '',
      'Declarations are removed or change value: C and Rust code vendoring the generated files must follow.',
    );
  return lines;
}

function changelogState(root: string, base: SpecSource): { entries: string[] } {
  const head = existsSync(join(root, 'CHANGELOG.md')) ? readFileSync(join(root, 'CHANGELOG.md'), 'utf8') : '';
  const before = base.commit ? showFile(root, base.commit, 'CHANGELOG.md') : undefined;
  return { entries: newUnreleasedEntries(before, head) };
}

function describeNeed(need: AcknowledgementNeed, implementations: ImplementationEntry[]): string {
  const name = (id: string) => {
    const entry = implementations.find((i) => i.id === id);
    return entry ? `${entry.project} (\`${id}\`, ${entry.maintainers})` : `\`${id}\``;
  };
  const who =
    need.who === 'all'
      ? `maintainers of every implementation: ${need.implementations.map(name).join(', ')}`
      : need.who === 'two-projects'
        ? `maintainers of two implementations from different projects, among: ${need.implementations.map(name).join(', ')}`
        : `maintainers of ${need.implementations.map(name).join(', ')}`;
  return `- For ${need.reason} (${need.items.map((i) => `\`${i}\``).join(', ')}): ${who}.`;
}

/** Whether generated/ matches what the working spec produces (what generate:check checks). */
async function generatedUpToDate(root: string, repo: SpecRepository): Promise<boolean> {
  for (const [path, content] of await emitGenerated(repo)) {
    const full = join(root, 'generated', path);
    if (!existsSync(full) || readFileSync(full, 'utf8') !== content) return false;
  }
  return true;
}

export async function reviewReport(root: string, base: SpecSource, head: SpecSource): Promise<string> {
  const cmp = compare(root, base, head);
  const changes: Change[] = cmp.diff.changes;
  const n = counts(changes);
  const lint = checkRepository(root);
  const generatedOk = lint.repo !== undefined && lint.issues.length === 0 && (await generatedUpToDate(root, lint.repo));
  const changelog = changelogState(root, base);
  const implementations = readImplementations(root);
  const needs = acknowledgementsNeeded(changes, head.model, implementations);
  const specChanged = changes.length > 0;
  const behaviour = changes.filter((c) => c.breaking && c.category === 'BEHAVIOR');
  const prose = changes.filter(
    (c) =>
      c.rule === 'prose-normative-changed' ||
      (c.entity === 'prose-section' && c.summary.includes('normative keywords')),
  );

  const lines = [
    `# vhost-user spec review: ${cmp.fromLabel} → ${cmp.toLabel}`,
    '',
    `${n.total} semantic change(s), ${n.breaking} breaking (${n.approved} approved).`,
    '',
    ...verdictSection(cmp),
    '',
  ];
  lines.push(...messagesSection(changes, head.model), '');
  lines.push(...(await apiSection(base, head)), '');
  lines.push(...(await nativeSection(base, head)), '');
  lines.push('## CHANGELOG.md', '');
  if (!specChanged) lines.push('The spec does not change; no entry is needed.');
  else if (changelog.entries.length > 0)
    lines.push(
      `"Unreleased" gains ${changelog.entries.length} line(s):`,
      '',
      ...changelog.entries.map((l) => `> ${l}`),
    );
  else lines.push('**Missing:** the spec changes but CHANGELOG.md has no new line under "Unreleased".');
  const contradictions = changelogContradictions(changelog.entries, head.model);
  for (const c of contradictions) lines.push('', `**Contradicts the data:** the line "${cell(c.entry)}" ${c.problem}.`);
  lines.push('', '## Acknowledgements (GOVERNANCE.md)', '');
  if (needs.length === 0)
    lines.push(
      specChanged ? 'Only wording or the generated API changes: one editor approves.' : 'Nothing to acknowledge.',
    );
  else lines.push(...needs.map((need) => describeNeed(need, implementations)));
  lines.push('', diffMarkdown(cmp, 2).trimEnd(), '');
  const box = (done: boolean, text: string) => `- [${done ? 'x' : ' '}] ${text}`;
  lines.push(
    '## Checklist',
    '',
    box(
      lint.issues.length === 0,
      `spec lint passes (\`npm run lint\`)${lint.issues.length > 0 ? `: ${lint.issues.length} problem(s)` : ''}`,
    ),
    box(generatedOk, '`generated/` matches the spec (`npm run generate:check`)'),
    box(!specChanged || changelog.entries.length > 0, 'CHANGELOG.md has an entry under "Unreleased"'),
    box(
      unapprovedBreaks(cmp.diff).length === 0,
      'every breaking change is approved in `spec/approvals.yaml` with a reason',
    ),
    // The tool cannot see acknowledgements: ticked only when none is needed.
    box(
      needs.length === 0,
      needs.length > 0 ? 'acknowledgements collected (see above; a person ticks this)' : 'no acknowledgement needed',
    ),
    box(
      contradictions.length === 0,
      `the CHANGELOG's numbers agree with the tables (checked where a line names an id or bit)${contradictions.length > 0 ? `: ${contradictions.length} contradiction(s) above` : ''}`,
    ),
    // Only a person can read: never ticked by the tool while there is something to read.
    box(
      behaviour.length === 0 && prose.length === 0,
      behaviour.length + prose.length > 0
        ? `an editor read every normative change (${behaviour.length} BEHAVIOR rule(s), ${prose.length} prose change(s) of MUST/SHOULD/MAY)`
        : 'no normative change to read (verified: no BEHAVIOR rule or MUST/SHOULD/MAY changed)',
    ),
  );
  return `${lines.join('\n')}\n`;
}

export async function runReview(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { base: { type: 'string' } }, 'review');
  if (typeof values.base !== 'string')
    throw new UsageError('review: --base <git-ref> is required (e.g. --base origin/main)');
  if (positionals.length > 0) throw new UsageError(`review: unexpected argument ${positionals[0]}`);
  const root = findRoot(typeof values.root === 'string' ? values.root : io.cwd);
  const base = resolveSource(root, values.base, io.cwd);
  try {
    io.out(await reviewReport(root, base, workingSource(root)));
    return 0;
  } finally {
    base.dispose();
  }
}
