/**
 * Read-only git: resolving a ref and reading files at that ref. Nothing here changes the
 * repository (no checkout, no index or ref updates): `rev-parse`, `archive` and `show` only.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

function git(root: string, args: string[]): { ok: boolean; stdout: Buffer; stderr: string } {
  const result = spawnSync('git', ['-C', root, ...args], { maxBuffer: 256 * 1024 * 1024 });
  if (result.error) return { ok: false, stdout: Buffer.alloc(0), stderr: result.error.message };
  return { ok: result.status === 0, stdout: result.stdout, stderr: result.stderr.toString().trim() };
}

/** The commit a ref names, or undefined when it is not a ref of the repository at `root`. */
export function resolveCommit(root: string, ref: string): string | undefined {
  if (ref.startsWith('-')) return undefined;
  const result = git(root, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  return result.ok ? result.stdout.toString().trim() : undefined;
}

/** Writes the `folder` tree of `commit` under `dest`; throws with git's message on failure. */
export function extractTree(root: string, commit: string, folder: string, dest: string): void {
  const archive = git(root, ['archive', '--format=tar', commit, folder]);
  if (!archive.ok) throw new Error(`git archive ${commit} ${folder} failed: ${archive.stderr}`);
  mkdirSync(dest, { recursive: true });
  const untar = spawnSync('tar', ['-x', '-C', dest], { input: archive.stdout });
  if (untar.status !== 0)
    throw new Error(`extracting ${folder} of ${commit} failed: ${untar.stderr?.toString() ?? untar.error?.message}`);
}

/** A file's text at `commit`, or undefined when it did not exist there. */
export function showFile(root: string, commit: string, path: string): string | undefined {
  const result = git(root, ['show', `${commit}:${path}`]);
  return result.ok ? result.stdout.toString() : undefined;
}
