/** CHANGELOG.md: the "Unreleased" section and inserting a release section. */

const UNRELEASED = /^## Unreleased[^\n]*\n/m;

/** The body of "## Unreleased" (up to the next "## " heading), trimmed; undefined when absent. */
export function unreleasedSection(text: string): string | undefined {
  const match = UNRELEASED.exec(text);
  if (!match) return undefined;
  const rest = text.slice(match.index + match[0].length);
  const next = rest.search(/^## /m);
  return (next < 0 ? rest : rest.slice(0, next)).trim();
}

/** Lines of "Unreleased" in `head` that `base` did not have: the entries a change added. */
export function newUnreleasedEntries(base: string | undefined, head: string): string[] {
  const before = new Set((unreleasedSection(base ?? '') ?? '').split('\n').map((l) => l.trim()));
  return (unreleasedSection(head) ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !before.has(l));
}

/**
 * Moves the "Unreleased" entries into a new section for `version`, followed by `generated`
 * (the semantic diff), and leaves an empty "Unreleased" above it.
 */
export function addReleaseSection(text: string, version: string, date: string, generated: string[]): string {
  const match = UNRELEASED.exec(text);
  if (!match) throw new Error('CHANGELOG.md has no "## Unreleased" section to release');
  const bodyStart = match.index + match[0].length;
  const rest = text.slice(bodyStart);
  const next = rest.search(/^## /m);
  const written = (next < 0 ? rest : rest.slice(0, next)).trim();
  const after = next < 0 ? '' : rest.slice(next);
  const section = [
    `## ${version}`,
    '',
    `Released ${date}.`,
    '',
    ...(written ? [written, ''] : []),
    `<!-- Written by \`vhost-user release ${version}\` from the semantic diff; edit freely. -->`,
    '',
    ...generated,
    '',
  ].join('\n');
  return `${text.slice(0, match.index)}## Unreleased\n\n${section}\n${after}`;
}
