/**
 * Provenance of normative statements: session rules carry it in the data; prose sentences that
 * this repository states more strictly than upstream are marked with
 * `::clarification{reason="..." agree="qemu,rust-vmm" upstream="SHOULD"}` right after their
 * paragraph. Unmarked prose states the upstream text (docs/interop/vhost-user.rst).
 *
 * One rule for every consumer: a check derived from a clarification never fails an
 * implementation at a level higher than the upstream text states.
 */
import type { SpecModel } from './load.js';
import { Implementation, Level, type Provenance } from './schema.js';
import type { SourceLocation } from './yaml-file.js';

export interface ProseClarification {
  /** Chapter file and the anchor of the section the marked paragraph is in. */
  chapter: string;
  anchor: string;
  loc: SourceLocation;
  /** The paragraph the marker follows. */
  text: string;
  reason: string;
  agree: string[];
  upstreamLevel: Level | 'none';
}

/** The level a check may enforce: the rule's own for upstream text, at most upstream's for a clarification. */
export function enforceableLevel(level: Level, provenance: Provenance | undefined): Level | 'none' {
  if (!provenance || provenance.source === 'upstream') return level;
  return provenance.upstreamLevel;
}

/** Problems of one `::clarification` marker's attributes (empty when it is well formed). */
export function clarificationProblems(attributes: Record<string, string>): string[] {
  const problems: string[] = [];
  if ((attributes.reason ?? '').length < 20)
    problems.push('clarification needs reason="..." saying why this is stricter than upstream (a sentence)');
  for (const id of (attributes.agree ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean))
    if (!Implementation.safeParse(id).success)
      problems.push(`clarification agree="${id}" is not an implementation (${Implementation.options.join(', ')})`);
  const upstream = attributes.upstream ?? '';
  if (upstream !== 'none' && !Level.safeParse(upstream).success)
    problems.push(
      `clarification upstream="${upstream}" must be the upstream level (${Level.options.join(', ')}) or none`,
    );
  return problems;
}

/** Every `::clarification` marker of a version with the paragraph it qualifies. */
export function proseClarifications(model: SpecModel): ProseClarification[] {
  const out: ProseClarification[] = [];
  for (const chapter of model.prose) {
    const lines = chapter.markdown.split('\n');
    for (const marker of chapter.markers) {
      if (marker.kind !== 'clarification') continue;
      // The paragraph just above the marker.
      let end = marker.loc.line - 2;
      while (end >= 0 && (lines[end] ?? '').trim() === '') end--;
      let start = end;
      while (start > 0 && (lines[start - 1] ?? '').trim() !== '') start--;
      const section = [...chapter.sections].reverse().find((s) => s.loc.line <= marker.loc.line);
      const level = marker.attributes.upstream ?? 'none';
      out.push({
        chapter: chapter.displayPath.split('/').pop() ?? chapter.displayPath,
        anchor: section?.anchor ?? '',
        loc: marker.loc,
        text: lines
          .slice(start, end + 1)
          .join(' ')
          .replace(/\s+/g, ' ')
          .trim(),
        reason: marker.attributes.reason ?? '',
        agree: (marker.attributes.agree ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        upstreamLevel: (Level.safeParse(level).success ? level : 'none') as Level | 'none',
      });
    }
  }
  return out;
}
