/** Prose: sections by anchor; removed anchors break links, changed text is reported. */
import { basename } from 'node:path';
import type { SpecModel } from '../load.js';
import type { ProseSection } from '../prose.js';
import { DiffCollector } from './collect.js';

interface SectionText {
  anchor: string;
  chapter: string;
  section: ProseSection;
  text: string;
  /** File line of the first line of `text`'s source (the line after the heading). */
  firstLine: number;
  /** The section's lines as written (untrimmed ends), for the line-level comparison. */
  lines: string[];
}

const KEYWORDS = ['MUST NOT', 'MUST', 'SHOULD NOT', 'SHOULD', 'MAY'] as const;

/** Every section of a version with its text (up to the next heading), keyed by anchor. */
function sectionsOf(model: SpecModel): Map<string, SectionText> {
  const out = new Map<string, SectionText>();
  for (const chapter of model.prose) {
    const lines = chapter.markdown.split('\n');
    chapter.sections.forEach((section, i) => {
      const start = section.loc.line;
      const end = chapter.sections[i + 1]?.loc.line ?? lines.length + 1;
      const body = lines.slice(start, end - 1).map((l) => l.trimEnd());
      const text = body.join('\n').trim();
      let anchor = section.anchor;
      for (let n = 1; out.has(anchor); n++) anchor = `${section.anchor}-${n}`;
      out.set(anchor, { anchor, chapter: basename(chapter.file), section, text, firstLine: start + 1, lines: body });
    });
  }
  return out;
}

/** RFC 2119 keywords in a text, counted per keyword ("MUST NOT" is not also a "MUST"), also
 *  when a line break falls between MUST and NOT. */
export function normativeKeywords(text: string): Record<string, number> {
  const counts: Record<string, number> = {};
  let rest = text;
  for (const word of KEYWORDS) {
    const pattern = new RegExp(`\\b${word.replace(' ', '\\s+')}\\b`, 'g');
    const found = rest.match(pattern)?.length ?? 0;
    if (found > 0) counts[word] = found;
    rest = rest.replace(pattern, ' ');
  }
  return counts;
}

function describeKeywordChange(before: string, after: string): string {
  const a = normativeKeywords(before);
  const b = normativeKeywords(after);
  const parts = KEYWORDS.filter((k) => (a[k] ?? 0) !== (b[k] ?? 0)).map((k) => `${k} ${a[k] ?? 0} -> ${b[k] ?? 0}`);
  return parts.length > 0 ? `; normative keywords: ${parts.join(', ')} (a person must review)` : '';
}

function lineDelta(before: string, after: string): string {
  const a = new Set(before.split('\n'));
  const b = new Set(after.split('\n'));
  const added = [...b].filter((l) => !a.has(l)).length;
  const removed = [...a].filter((l) => !b.has(l)).length;
  return `+${added}/-${removed} lines`;
}

export function diffProse(c: DiffCollector): void {
  const before = sectionsOf(c.from);
  const after = sectionsOf(c.to);
  for (const [anchor, old] of before) {
    const now = after.get(anchor);
    if (!now) {
      c.add({
        kind: 'removed',
        entity: 'prose-section',
        name: anchor,
        before: old.section.title,
        summary: `section "${old.section.title}" (#${anchor}, ${old.chapter}) removed: links to #${anchor} break`,
        rule: 'anchor-removed',
        loc: old.section.loc,
      });
      continue;
    }
    if (old.text !== now.text) {
      for (const hunk of normativeHunks(old, now)) {
        c.add({
          kind: 'changed',
          entity: 'prose-section',
          name: anchor,
          path: `text:${hunk.line}`,
          before: hunk.before,
          after: hunk.after,
          summary: `section "${now.section.title}": ${hunk.summary}`,
          rule: 'prose-normative-changed',
          loc: { file: now.section.loc.file, line: hunk.line, column: hunk.column },
        });
      }
      c.add({
        kind: 'changed',
        entity: 'prose-section',
        name: anchor,
        path: 'text',
        summary: `section "${now.section.title}" (${now.chapter}) text changed (${lineDelta(old.text, now.text)})${describeKeywordChange(old.text, now.text)}`,
        loc: now.section.loc,
      });
    }
  }
  for (const [anchor, now] of after) {
    if (!before.has(anchor))
      c.add({
        kind: 'added',
        entity: 'prose-section',
        name: anchor,
        after: now.section.title,
        summary: `section "${now.section.title}" (#${anchor}, ${now.chapter}) added`,
        loc: now.section.loc,
      });
  }
}

/** Runs of lines that differ between two texts (a longest-common-subsequence line diff). */
export function changedRuns(
  a: string[],
  b: string[],
): { aStart: number; aEnd: number; bStart: number; bEnd: number }[] {
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      (lcs[i] as number[])[j] =
        a[i] === b[j]
          ? ((lcs[i + 1] as number[])[j + 1] as number) + 1
          : Math.max((lcs[i + 1] as number[])[j] as number, (lcs[i] as number[])[j + 1] as number);
  const runs: { aStart: number; aEnd: number; bStart: number; bEnd: number }[] = [];
  let i = 0;
  let j = 0;
  let open: { aStart: number; bStart: number } | undefined;
  const close = () => {
    if (open) runs.push({ aStart: open.aStart, aEnd: i, bStart: open.bStart, bEnd: j });
    open = undefined;
  };
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      close();
      i++;
      j++;
    } else {
      open ??= { aStart: i, bStart: j };
      if (j < m && (i >= n || ((lcs[i] as number[])[j + 1] as number) >= ((lcs[i + 1] as number[])[j] as number))) j++;
      else i++;
    }
  }
  close();
  return runs;
}

const LEVEL_ORDER = ['MUST', 'MUST NOT', 'SHOULD', 'SHOULD NOT', 'MAY'];

/** The changed passages whose RFC 2119 keywords differ, located at the first changed line of the newer text. */
function normativeHunks(
  old: SectionText,
  now: SectionText,
): { line: number; column: number; before: string; after: string; summary: string }[] {
  const out: { line: number; column: number; before: string; after: string; summary: string }[] = [];
  for (const run of changedRuns(old.lines, now.lines)) {
    // One line of context each side: a keyword split over a line break (MUST / NOT) is read whole.
    const before = withContext(old.lines, run.aStart, run.aEnd);
    const after = withContext(now.lines, run.bStart, run.bEnd);
    const a = normativeKeywords(before);
    const b = normativeKeywords(after);
    const changed = LEVEL_ORDER.filter((k) => (a[k] ?? 0) !== (b[k] ?? 0));
    if (changed.length === 0) continue;
    const lost = changed.filter((k) => (a[k] ?? 0) > (b[k] ?? 0));
    const gained = changed.filter((k) => (b[k] ?? 0) > (a[k] ?? 0));
    const summary =
      lost.length > 0 && gained.length > 0
        ? `normative level changed: ${lost.join(', ')} -> ${gained.join(', ')}`
        : gained.length > 0
          ? `${gained.join(', ')} added`
          : `${lost.join(', ')} removed`;
    const index = Math.min(run.bStart, Math.max(now.lines.length - 1, 0));
    const keyword = /\b(MUST|SHOULD|MAY)\b/.exec(now.lines[index] ?? '');
    out.push({
      line: now.firstLine + index,
      column: run.bEnd > run.bStart && keyword ? keyword.index + 1 : 1,
      before: before.trim(),
      after: after.trim(),
      summary: `${summary} (a person must review)`,
    });
  }
  return out;
}

function withContext(lines: string[], start: number, end: number): string {
  return lines.slice(Math.max(0, start - 1), Math.min(lines.length, end + 1)).join('\n');
}
