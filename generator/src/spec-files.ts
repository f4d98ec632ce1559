/**
 * Reading the files of a spec folder. Spec folders come from pull requests, so their contents
 * are untrusted: a file is read only when it, and every folder between the spec folder and it,
 * is a real file or folder (a symbolic link could name anything on the machine that builds the
 * spec), and only up to a size cap (the whole file is held in memory and parsed).
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, readSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import type { SpecIssue } from './yaml-file.js';

/** The largest spec file read, in bytes (the biggest file of the spec is about 25 KB). */
export const SPEC_FILE_MAX_BYTES = 1 << 20;

export type SpecFileRead =
  | { kind: 'text'; text: string }
  | { kind: 'missing' }
  /** The file exists but is not read; `reason` says why, in a sentence naming the path. */
  | { kind: 'refused'; reason: string };

/**
 * Why `rel` under `base` must not be read: a `..` or absolute path, or a symbolic link on the
 * way (base itself is the caller's choice and is not checked). Undefined when every existing
 * part of the path is a real file or folder; `missing` when a part does not exist.
 */
export function pathProblem(base: string, rel: string): string | 'missing' | undefined {
  const parts = rel.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  if (isAbsolute(rel) || parts.includes('..')) return `${rel} names a path outside the spec folder`;
  let path = base;
  for (const part of parts) {
    path = join(path, part);
    let stats;
    try {
      stats = lstatSync(path);
    } catch {
      return 'missing';
    }
    if (stats.isSymbolicLink()) {
      let target = '';
      try {
        target = ` (to ${readlinkSync(path)})`;
      } catch {
        // unreadable link: the message still names it
      }
      return `${join(...parts.slice(0, parts.indexOf(part) + 1))} is a symbolic link${target}; spec files must be real files inside the spec folder`;
    }
  }
  return undefined;
}

/** Reads `rel` inside the spec folder `dir` as UTF-8, refusing links, non-files and big files. */
export function readSpecFile(dir: string, rel: string, maxBytes = SPEC_FILE_MAX_BYTES): SpecFileRead {
  const problem = pathProblem(dir, rel);
  if (problem === 'missing') return { kind: 'missing' };
  if (problem) return { kind: 'refused', reason: problem };
  let fd: number;
  try {
    // O_NOFOLLOW: a link swapped in since the check above is refused too. O_NONBLOCK: opening a
    // FIFO does not wait for a writer (it is refused below as not a regular file).
    fd = openSync(join(dir, rel), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'missing' };
    if (code === 'ELOOP') return { kind: 'refused', reason: `${rel} is a symbolic link` };
    return { kind: 'refused', reason: `${rel} cannot be read (${code ?? String(error)})` };
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) return { kind: 'refused', reason: `${rel} is not a regular file` };
    if (stats.size > maxBytes) return { kind: 'refused', reason: tooBig(rel, stats.size, maxBytes) };
    // One byte more than the size: a file that grows while it is read is refused, not followed.
    const buffer = Buffer.alloc(stats.size + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length === buffer.length) break;
    }
    if (length > stats.size) return { kind: 'refused', reason: `${rel} changed while it was read` };
    return { kind: 'text', text: buffer.toString('utf8', 0, length) };
  } finally {
    closeSync(fd);
  }
}

function tooBig(rel: string, size: number, maxBytes: number): string {
  return `${rel} is ${size} bytes; spec files are at most ${maxBytes} bytes`;
}

/** The lint issue for a spec file or folder that is not read (rule `spec-file`), at its line 1. */
export function refusedIssue(path: string, root: string, reason: string): SpecIssue {
  return {
    rule: 'spec-file',
    message: reason,
    loc: { file: relative(root, path) || path, line: 1, column: 1 },
    severity: 'error',
  };
}
