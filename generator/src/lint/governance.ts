/**
 * What GOVERNANCE.md says that the tools check: the implementations table (ids and who to ask),
 * read from the document so the tools and the document cannot disagree.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ImplementationEntry {
  id: string;
  project: string;
  maintainers: string;
}

/** Rows of the table under the "Implementations" heading: `| \`id\` | project | maintainers |`. */
export function readImplementations(root: string): ImplementationEntry[] {
  const path = join(root, 'GOVERNANCE.md');
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const start = text.search(/^## Implementations\s*$/m);
  if (start < 0) return [];
  const section = text.slice(start).split(/\n## /)[0] ?? '';
  const rows: ImplementationEntry[] = [];
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const id = /^`([a-z0-9-]+)`$/.exec(cells[1] ?? '')?.[1];
    if (id && cells.length >= 5) rows.push({ id, project: cells[2] ?? '', maintainers: cells[3] ?? '' });
  }
  return rows;
}
