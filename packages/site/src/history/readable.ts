/**
 * The review tooling's change summaries in words for a reader of the site: no line counts,
 * no internal paths, no instructions to reviewers ("(a person must review)").
 */
import type { Change } from './semantic-diff.js';

export function readableSummary(change: Change): string {
  let summary = change.summary.startsWith(`${change.name}: `)
    ? change.summary.slice(change.name.length + 2)
    : change.summary;
  if (change.path === 'divergences') {
    const who = [...new Set([...summary.matchAll(/\(([^)]+)\)/g)].flatMap((m) => (m[1] as string).split(/,\s*/)))];
    return `recorded divergences updated${who.length ? ` (${who.join(', ')})` : ''}`;
  }
  summary = summary
    .replace(/\s*\(a person must review\)/g, '')
    .replace(/ text changed \(\+\d+\/-\d+ lines\)/, ' text changed')
    .replace(/normative keywords: /, 'requirement keywords ')
    .replace(/ -> /g, ' → ');
  return change.entity === 'ring-transition' ? `ring state: ${summary}` : summary;
}

/** Whether a change alters what implementations must do: breaking, or a change of requirement keywords. */
export function isNormative(change: Change): boolean {
  return Boolean(change.breaking) || /normative keywords:/.test(change.summary);
}
