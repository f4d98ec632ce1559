/**
 * The whole spec repository: the working draft in spec/ and every frozen release in
 * spec/releases/<version>/, ordered oldest first.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { append, loadSpecFolder, type SpecModel } from './load.js';
import type { SpecIssue } from './yaml-file.js';

export interface SpecRepository {
  root: string;
  draft: SpecModel;
  /** Frozen releases, oldest first. */
  releases: SpecModel[];
}

/** Orders release numbers such as 1.2 and 1.10 numerically. */
export function compareVersions(a: string, b: string): number {
  if (a === b) return 0;
  if (a === 'draft') return 1;
  if (b === 'draft') return -1;
  const [aMajor = 0, aMinor = 0] = a.split('.').map(Number);
  const [bMajor = 0, bMinor = 0] = b.split('.').map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}

export function releaseVersions(specDir: string): string[] {
  const dir = join(specDir, 'releases');
  if (!existsSync(dir)) return [];
  // Links are listed too: loading one reports it (a release must be a real folder).
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => /^\d+\.\d+$/.test(entry.name) && (entry.isDirectory() || entry.isSymbolicLink()))
    .map((entry) => entry.name)
    .sort(compareVersions);
}

/**
 * Loads spec/ and all releases under `root` (the repository root). `specDir` defaults to
 * `<root>/spec`. Returns undefined for the repository when the draft cannot be loaded.
 */
export function loadRepository(
  root: string,
  specDir = join(root, 'spec'),
): { repo: SpecRepository | undefined; issues: SpecIssue[] } {
  const issues: SpecIssue[] = [];
  const draft = loadSpecFolder(specDir, root);
  append(issues, draft.issues);
  const releases: SpecModel[] = [];
  for (const version of releaseVersions(specDir)) {
    const loaded = loadSpecFolder(join(specDir, 'releases', version), root);
    append(issues, loaded.issues);
    if (loaded.model) releases.push(loaded.model);
  }
  if (!draft.model) return { repo: undefined, issues };
  return { repo: { root, draft: draft.model, releases }, issues };
}

/** The draft followed by the releases, newest last: every version the repository holds. */
export function allVersions(repo: SpecRepository): SpecModel[] {
  return [...repo.releases, repo.draft];
}
