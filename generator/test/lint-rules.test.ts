/**
 * Every lint rule has a broken fixture in fixtures/broken/<rule>.yaml: a few text edits to the
 * clean fixture in fixtures/minimal that must make exactly that rule fire, with the message
 * and the file:line it names.
 */
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { LOADER_RULES, RULES, checkRepository, type SpecIssue } from '../src/index.js';

const here = new URL('.', import.meta.url).pathname;
const minimal = join(here, 'fixtures/minimal');
const brokenDir = join(here, 'fixtures/broken');
const scratch = mkdtempSync(join(tmpdir(), 'vhost-user-lint-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface BrokenCase {
  rule: string;
  message: string;
  /** Other rules the same breakage legitimately triggers. */
  also?: string[];
  /** `file:line` or `file:line:column`. */
  at: string;
  edits?: { file: string; find: string; replace: string }[];
  /** Files written whole (created or replaced). */
  write?: { file: string; text: string }[];
  delete?: string[];
  /** Files replaced by symbolic links to `target` (relative to the link); a missing target is
   *  created outside the fixture, holding `outside text`. */
  links?: { file: string; target: string }[];
}

function lintTree(root: string): SpecIssue[] {
  return checkRepository(root).issues;
}

function buildCase(name: string, c: BrokenCase): string {
  const root = join(scratch, name);
  cpSync(minimal, root, { recursive: true });
  for (const edit of c.edits ?? []) {
    const path = join(root, edit.file);
    const text = readFileSync(path, 'utf8');
    if (!text.includes(edit.find)) throw new Error(`${name}: "${edit.find}" not found in ${edit.file}`);
    writeFileSync(path, text.replace(edit.find, edit.replace));
  }
  for (const w of c.write ?? []) writeFileSync(join(root, w.file), w.text);
  for (const file of c.delete ?? []) rmSync(join(root, file));
  for (const link of c.links ?? []) {
    const path = join(root, link.file);
    const target = resolve(dirname(path), link.target);
    if (!existsSync(target)) writeFileSync(target, 'outside text\n');
    rmSync(path, { recursive: true, force: true });
    symlinkSync(link.target, path);
  }
  return root;
}

const cases = readdirSync(brokenDir)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => ({ name: f.replace(/\.yaml$/, ''), c: parse(readFileSync(join(brokenDir, f), 'utf8')) as BrokenCase }));

describe('lint fixtures', () => {
  it('the minimal fixture lints clean', () => {
    expect(lintTree(minimal)).toEqual([]);
  });

  it('every rule has a broken fixture', () => {
    const covered = new Set(cases.map((x) => x.c.rule));
    const all = [...LOADER_RULES.map((r) => r.id), ...RULES.map((r) => r.id)];
    expect(all.filter((id) => !covered.has(id))).toEqual([]);
  });

  it.each(cases)('$name triggers its rule', ({ name, c }) => {
    const issues = lintTree(buildCase(name, c));
    const [file, line, column] = c.at.split(':');
    const match = issues.find(
      (i) =>
        i.rule === c.rule &&
        i.message === c.message &&
        i.loc.file === file &&
        i.loc.line === Number(line) &&
        (column === undefined || i.loc.column === Number(column)),
    );
    expect(
      match,
      `issues were:\n${issues.map((i) => `${i.loc.file}:${i.loc.line}:${i.loc.column} ${i.rule}: ${i.message}`).join('\n')}`,
    ).toBeDefined();
    // The fixture breaks one thing: no rule fires beyond the ones it names.
    const others = new Set(issues.map((i) => i.rule).filter((r) => r !== c.rule));
    expect([...others].filter((r) => !(c.also ?? []).includes(r))).toEqual([]);
  });
});
