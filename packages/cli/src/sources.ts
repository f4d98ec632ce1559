/**
 * Where a spec version comes from: the working tree (`spec/`), a frozen release (`1.2`), a
 * spec folder or repository on disk, or a git ref (`origin/main`, `HEAD~1`) read with
 * `git archive` into a temporary folder.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { loadSpecFolder, releaseVersions, type SpecModel } from '@vhost-user/generator';
import { SpecLoadFailure, UsageError } from './errors.js';
import { extractTree, resolveCommit } from './git.js';

export interface SpecSource {
  model: SpecModel;
  /** How reports name this side: `1.2`, `working tree`, `origin/main (3f2a1c9)`, a path. */
  label: string;
  kind: 'working' | 'release' | 'path' | 'git';
  /** For a git ref: the commit, and the ref as given (locations are prefixed with it). */
  commit?: string;
  ref?: string;
  dispose(): void;
}

/** The repository root: the nearest folder upwards that holds spec/spec.yaml. */
export function findRoot(start: string): string {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'spec', 'spec.yaml'))) return dir;
    if (dirname(dir) === dir)
      throw new UsageError(
        `no spec/spec.yaml in ${resolve(start)} or any folder above it; run vhost-user inside the spec repository (or pass --root)`,
      );
  }
}

/** Where the working spec is: its folder, and the root that file names in messages are relative to. */
export interface SpecLocation {
  root: string;
  specDir: string;
}

/**
 * The spec a command works on: `--spec <dir>` (a spec folder holding spec.yaml, or a folder
 * holding spec/), else the repository found from `--root` or the current folder.
 */
export function locateSpec(values: Record<string, string | boolean | undefined>, cwd: string): SpecLocation {
  if (typeof values.spec === 'string') {
    const path = resolve(cwd, values.spec);
    if (existsSync(join(path, 'spec.yaml'))) return { root: dirname(path), specDir: path };
    if (existsSync(join(path, 'spec', 'spec.yaml'))) return { root: path, specDir: join(path, 'spec') };
    throw new UsageError(
      `--spec ${values.spec}: ${path} holds neither spec.yaml nor spec/spec.yaml; pass a spec folder (the one with spec.yaml)`,
    );
  }
  const root = findRoot(typeof values.root === 'string' ? values.root : cwd);
  return { root, specDir: join(root, 'spec') };
}

function load(dir: string, root: string, what: string): SpecModel {
  const { model, issues } = loadSpecFolder(dir, root);
  if (!model || issues.length > 0) throw new SpecLoadFailure(what, issues);
  return model;
}

export function workingSource(root: string, specDir = join(root, 'spec')): SpecSource {
  return {
    model: load(specDir, root, `the working spec (${relative(root, specDir) || '.'}/)`),
    label: 'working tree',
    kind: 'working',
    dispose: () => {},
  };
}

function isDir(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/**
 * Resolves `spec` as, in order: `draft`/`working` (the working tree), a release number under
 * spec/releases/, a folder on disk (a spec folder or a repository holding spec/), a git ref.
 */
export function resolveSource(root: string, spec: string, cwd: string, specDir = join(root, 'spec')): SpecSource {
  if (spec === 'draft' || spec === 'working') return workingSource(root, specDir);
  const releases = releaseVersions(specDir);
  if (/^\d+\.\d+$/.test(spec) && releases.includes(spec)) {
    return {
      model: load(join(specDir, 'releases', spec), root, `release ${spec}`),
      label: spec,
      kind: 'release',
      dispose: () => {},
    };
  }
  const path = resolve(cwd, spec);
  if (isDir(path)) {
    const dir = existsSync(join(path, 'spec.yaml')) ? path : join(path, 'spec');
    if (!existsSync(join(dir, 'spec.yaml')))
      throw new UsageError(`${spec} is a folder but holds neither spec.yaml nor spec/spec.yaml`);
    const shown = relative(root, dir) || '.';
    return { model: load(dir, root, `the spec in ${shown}`), label: shown, kind: 'path', dispose: () => {} };
  }
  const commit = resolveCommit(root, spec);
  if (commit) return gitSource(root, spec, commit);
  const known = releases.length > 0 ? releases.join(', ') : 'none';
  throw new UsageError(
    `cannot find "${spec}": it is not a release in spec/releases (${known}), not a folder, and not a git ref of ${root}`,
  );
}

function gitSource(root: string, ref: string, commit: string): SpecSource {
  const tmp = mkdtempSync(join(tmpdir(), 'vhost-user-ref-'));
  const dispose = () => rmSync(tmp, { recursive: true, force: true });
  try {
    extractTree(root, commit, 'spec', tmp);
    if (!existsSync(join(tmp, 'spec', 'spec.yaml')))
      throw new UsageError(`${ref} (${commit.slice(0, 7)}) has no spec/spec.yaml`);
    const model = load(join(tmp, 'spec'), tmp, `the spec at ${ref}`);
    return { model, label: `${ref} (${commit.slice(0, 7)})`, kind: 'git', commit, ref, dispose };
  } catch (error) {
    dispose();
    if (error instanceof SpecLoadFailure) {
      throw new SpecLoadFailure(
        error.what,
        error.issues.map((i) => ({ ...i, loc: { ...i.loc, file: `${ref}:${i.loc.file}` } })),
      );
    }
    throw error;
  }
}
