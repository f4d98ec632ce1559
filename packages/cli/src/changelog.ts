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

/** A CHANGELOG statement that names a number the data contradicts. */
export interface ChangelogContradiction {
  entry: string;
  problem: string;
}

interface NumberedItems {
  messages: { name: string; id: number; channel: string }[];
  protocolFeatures: { name: string; bit: number; requires?: string[] }[];
}

/**
 * Cross-checks CHANGELOG lines against the tables where they name numbers: `` `NAME` (id 46) ``,
 * `` `NAME` (46) ``, `bit 24`, `requires bit(s) 20 and 12`. Only what a line says next to a name
 * it mentions is checked; free prose is left to the reviewer.
 */
export function changelogContradictions(entries: string[], model: NumberedItems): ChangelogContradiction[] {
  const out: ChangelogContradiction[] = [];
  const bitOf = new Map(model.protocolFeatures.map((b) => [b.name, b.bit]));
  for (const entry of entries) {
    for (const match of entry.matchAll(/`?(VHOST_USER_[A-Z0-9_]+)`?/g)) {
      const name = match[1] ?? '';
      // What follows the name up to the next name or the end of the clause.
      const rest = entry.slice((match.index ?? 0) + match[0].length).split(/VHOST_USER_|;|\. /)[0] ?? '';
      const feature = model.protocolFeatures.find((b) => b.name === name);
      const message = model.messages.find((m) => m.name === name);
      if (feature) {
        const said = /^\s*\(?\s*bit\s+(\d+)/.exec(rest)?.[1];
        if (said !== undefined && Number(said) !== feature.bit)
          out.push({ entry, problem: `says ${name} is bit ${said}; the data gives bit ${feature.bit}` });
        const requires = /requires bits?\s+([\d\s,and]+)/.exec(rest)?.[1];
        if (requires !== undefined) {
          const saidBits = [...requires.matchAll(/\d+/g)].map((m) => Number(m[0])).sort((a, b) => a - b);
          const dataBits = (feature.requires ?? []).map((r) => bitOf.get(r) ?? -1).sort((a, b) => a - b);
          if (saidBits.join(',') !== dataBits.join(','))
            out.push({
              entry,
              problem: `says ${name} requires bit(s) ${saidBits.join(', ')}; the data requires ${dataBits.length > 0 ? dataBits.join(', ') : 'none'}`,
            });
        }
      } else if (message) {
        const said = /^\s*\((?:id\s+)?(\d+)\)/.exec(rest)?.[1] ?? /^[^(]*?\bid\s+(\d+)/.exec(rest)?.[1];
        if (said !== undefined && Number(said) !== message.id)
          out.push({ entry, problem: `says ${name} has id ${said}; the data gives id ${message.id}` });
      }
    }
  }
  return out;
}
