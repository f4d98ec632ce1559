/**
 * Every breaking rule has a fixture pair in pairs/<rule>.yaml that triggers exactly that rule,
 * at the YAML line it names; pairs with `rule: null` are reported changes that break nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BREAKING_RULES, diffModels, type Change } from '../../src/index.js';
import { loadPair, readPairs } from './pairs.js';

const scratch = mkdtempSync(join(tmpdir(), 'vhost-user-diff-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const pairs = readPairs();
const show = (changes: Change[]) =>
  changes
    .map((c) => `${c.rule ?? '-'} ${c.kind} ${c.name} ${c.path}: ${c.summary} @ ${c.loc?.file}:${c.loc?.line}`)
    .join('\n');

describe('breaking rules', () => {
  it('every rule has a fixture pair, named after it', () => {
    const covered = new Set(pairs.filter((p) => p.pair.rule === p.name).map((p) => p.name));
    expect(BREAKING_RULES.map((r) => r.id).filter((id) => !covered.has(id))).toEqual([]);
  });

  it('rule ids are unique and each has a category and a one-line description', () => {
    expect(new Set(BREAKING_RULES.map((r) => r.id)).size).toBe(BREAKING_RULES.length);
    for (const r of BREAKING_RULES) {
      expect(['WIRE', 'BEHAVIOR', 'SOURCE', 'DOC']).toContain(r.category);
      expect(r.description).toMatch(/^[A-Z].*\.$/);
      expect(r.description).not.toContain('\n');
    }
  });

  it.each(pairs.filter((p) => p.pair.rule !== null))('$name triggers exactly its rule', ({ name, pair }) => {
    const { from, to } = loadPair(scratch, name, pair);
    const diff = diffModels(from, to);
    // Warning-level rules (prose-normative-changed) are reported the same way, without failing.
    const breaking = diff.changes.filter((c) => c.breaking || c.warning);
    expect([...new Set(breaking.map((c) => c.rule))], show(diff.changes)).toEqual([pair.rule]);
    const [file, line] = (pair.at ?? '').split(':');
    const hit = breaking.find((c) => c.loc?.file === file && c.loc?.line === Number(line));
    expect(hit, show(breaking)).toBeDefined();
    expect(hit?.category).toBe(BREAKING_RULES.find((r) => r.id === pair.rule)?.category);
  });

  it.each(pairs.filter((p) => p.pair.rule === null))('$name is reported and breaks nothing', ({ name, pair }) => {
    const { from, to } = loadPair(scratch, name, pair);
    const diff = diffModels(from, to);
    expect(
      diff.changes.filter((c) => c.breaking),
      show(diff.changes),
    ).toEqual([]);
    expect(
      diff.changes.map((c) => c.summary).some((s) => s.includes(pair.reported ?? '?')),
      show(diff.changes),
    ).toBe(true);
  });
});
