/** The semantic diff as text, Markdown or JSON. */
import { formatLocation, type Change, type DiffEntity } from '@vhost-user/generator';
import type { Comparison } from '../compare.js';
import type { Style } from './style.js';

export const ENTITY_TITLES: Record<DiffEntity, string> = {
  message: 'Messages',
  'protocol-feature': 'Protocol feature bits',
  'virtio-feature': 'Virtio feature bits',
  payload: 'Payloads and structs',
  enum: 'Enums',
  constant: 'Constants',
  registry: 'Number registry',
  header: 'Header',
  precondition: 'Preconditions',
  'ring-transition': 'Ring states',
  'ring-layout': 'Ring layouts',
  'prose-section': 'Prose sections',
};

const MARK: Record<Change['kind'], string> = { added: '+', changed: '~', removed: '-' };

export function groupByEntity(changes: Change[]): [DiffEntity, Change[]][] {
  const groups = new Map<DiffEntity, Change[]>();
  for (const entity of Object.keys(ENTITY_TITLES) as DiffEntity[]) groups.set(entity, []);
  for (const c of changes) groups.get(c.entity)?.push(c);
  return [...groups].filter(([, list]) => list.length > 0);
}

export function counts(changes: Change[]): { total: number; breaking: number; approved: number } {
  const breaking = changes.filter((c) => c.breaking);
  return { total: changes.length, breaking: breaking.length, approved: breaking.filter((c) => c.approved).length };
}

function verdictTag(c: Change, s: Style): string {
  if (c.warning) return ` ${s.yellow(`[warning ${c.rule} ${c.category}]`)}`;
  if (!c.breaking) return '';
  if (c.approved) return ` ${s.yellow(`[approved ${c.rule} ${c.category}]`)}`;
  return ` ${s.red(`[BREAKING ${c.rule} ${c.category}]`)}`;
}

export function diffText(cmp: Comparison, s: Style): string {
  const { diff } = cmp;
  const n = counts(diff.changes);
  const lines = [
    s.bold(
      `Changes from ${cmp.fromLabel} to ${cmp.toLabel}: ${n.total} (${n.breaking} breaking, ${n.approved} of them approved)`,
    ),
  ];
  for (const [entity, list] of groupByEntity(diff.changes)) {
    lines.push('', s.bold(ENTITY_TITLES[entity]));
    for (const c of list) {
      const where = c.loc ? s.dim(` (${formatLocation(c.loc)})`) : '';
      lines.push(`  ${MARK[c.kind]} ${c.name}: ${c.summary}${verdictTag(c, s)}${where}`);
      if (c.approved) lines.push(`      approved: ${c.approved.reason}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Escapes what would break a Markdown table cell. */
export function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function verdictCell(c: Change): string {
  if (c.warning) return `warning \`${c.rule}\` (${c.category}): a person must review`;
  if (!c.breaking) return '';
  return c.approved
    ? `approved \`${c.rule}\` (${c.category}): ${cell(c.approved.reason)}`
    : `**breaking** \`${c.rule}\` (${c.category})`;
}

export function diffMarkdown(cmp: Comparison, headingLevel = 2): string {
  const h = '#'.repeat(headingLevel);
  const n = counts(cmp.diff.changes);
  const lines = [
    `${h} Changes from ${cmp.fromLabel} to ${cmp.toLabel}`,
    '',
    `${n.total} change(s), ${n.breaking} breaking (${n.approved} approved).`,
  ];
  for (const [entity, list] of groupByEntity(cmp.diff.changes)) {
    lines.push(
      '',
      `${h}# ${ENTITY_TITLES[entity]}`,
      '',
      '| | item | change | verdict | where |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const c of list) {
      lines.push(
        `| ${c.kind} | \`${cell(c.name)}\` | ${cell(c.summary)} | ${verdictCell(c)} | ${c.loc ? `\`${formatLocation(c.loc)}\`` : ''} |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

export function diffJson(cmp: Comparison): string {
  const n = counts(cmp.diff.changes);
  return `${JSON.stringify({ from: cmp.diff.from, to: cmp.diff.to, fromLabel: cmp.fromLabel, toLabel: cmp.toLabel, counts: n, changes: cmp.diff.changes }, null, 2)}\n`;
}
