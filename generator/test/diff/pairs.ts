/**
 * Fixture pairs: a base spec folder (a frozen release), edits that make the "before" spec,
 * and edits on top of it that make the "after" spec. Built in a scratch folder and loaded.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadSpecFolder, type SpecModel } from '../../src/index.js';

export const repoRoot = new URL('../../../', import.meta.url).pathname;
export const pairsDir = new URL('./pairs/', import.meta.url).pathname;

export interface Edit {
  file: string;
  find: string;
  replace: string;
}

export interface Pair {
  /** The breaking rule the pair must trigger, alone; null for a change that breaks nothing. */
  rule: string | null;
  /** The spec folder both sides start from, relative to the repository root. */
  base: string;
  /** `before/<file>:<line>` or `after/<file>:<line>`: where the breaking change points. */
  at?: string;
  /** For a non-breaking pair: the summary of the change it must report. */
  reported?: string;
  before?: Edit[];
  after?: Edit[];
}

export function readPairs(): { name: string; pair: Pair }[] {
  return readdirSync(pairsDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => ({ name: f.replace(/\.yaml$/, ''), pair: parse(readFileSync(join(pairsDir, f), 'utf8')) as Pair }));
}

function applyEdits(dir: string, edits: Edit[] | undefined, label: string): void {
  for (const edit of edits ?? []) {
    const path = join(dir, edit.file);
    const text = readFileSync(path, 'utf8');
    if (!text.includes(edit.find)) throw new Error(`${label}: "${edit.find.slice(0, 60)}" not found in ${edit.file}`);
    writeFileSync(path, text.replace(edit.find, edit.replace));
  }
}

/** Writes `<scratch>/<name>/before` and `/after`; returns both folders. */
export function buildPair(scratch: string, name: string, pair: Pair): { root: string; before: string; after: string } {
  const root = join(scratch, name);
  const before = join(root, 'before');
  const after = join(root, 'after');
  mkdirSync(root, { recursive: true });
  cpSync(join(repoRoot, pair.base), before, { recursive: true });
  applyEdits(before, pair.before, `${name} (before)`);
  cpSync(before, after, { recursive: true });
  applyEdits(after, pair.after, `${name} (after)`);
  return { root, before, after };
}

export function loadPair(scratch: string, name: string, pair: Pair): { from: SpecModel; to: SpecModel } {
  const { root, before, after } = buildPair(scratch, name, pair);
  const a = loadSpecFolder(before, root);
  const b = loadSpecFolder(after, root);
  if (!a.model || !b.model) throw new Error(`${name}: ${[...a.issues, ...b.issues].map((i) => i.message).join('; ')}`);
  return { from: a.model, to: b.model };
}
