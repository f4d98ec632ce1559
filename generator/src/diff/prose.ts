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
      const text = lines
        .slice(start, end - 1)
        .map((l) => l.trimEnd())
        .join('\n')
        .trim();
      let anchor = section.anchor;
      for (let n = 1; out.has(anchor); n++) anchor = `${section.anchor}-${n}`;
      out.set(anchor, { anchor, chapter: basename(chapter.file), section, text });
    });
  }
  return out;
}

/** RFC 2119 keywords in a text, counted per keyword ("MUST NOT" is not also a "MUST"). */
export function normativeKeywords(text: string): Record<string, number> {
  const counts: Record<string, number> = {};
  let rest = text;
  for (const word of KEYWORDS) {
    const pattern = new RegExp(`\\b${word}\\b`, 'g');
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
