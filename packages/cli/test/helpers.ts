/** Running the command as a user does (node bin/vhost-user.mjs) against scratch copies of the repo. */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const repoRoot = new URL('../../../', import.meta.url).pathname;
const bin = join(repoRoot, 'packages/cli/bin/vhost-user.mjs');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function vhostUser(args: string[], cwd = repoRoot): Run {
  const env = { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined };
  const result = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env, timeout: 300_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const scratchDirs: string[] = [];
export function cleanupScratch(): void {
  for (const dir of scratchDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A copy of what the commands read and write: spec/, generated/, the process files, manifests. */
export function copyRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vhost-user-cli-'));
  scratchDirs.push(dir);
  for (const path of ['spec', 'generated', 'CHANGELOG.md', 'GOVERNANCE.md', 'README.md', 'package-lock.json'])
    cpSync(join(repoRoot, path), join(dir, path), { recursive: true });
  for (const pkg of ['codec', 'cli', 'vring', 'transport', 'site']) {
    const manifest = join(repoRoot, 'packages', pkg, 'package.json');
    if (!existsSync(manifest)) continue;
    mkdirSync(join(dir, 'packages', pkg), { recursive: true });
    cpSync(manifest, join(dir, 'packages', pkg, 'package.json'));
  }
  return dir;
}

export function edit(root: string, file: string, find: string, replace: string): void {
  const path = join(root, file);
  const text = readFileSync(path, 'utf8');
  if (!text.includes(find)) throw new Error(`"${find}" not found in ${file}`);
  writeFileSync(path, text.replace(find, replace));
}

export function write(root: string, file: string, text: string): void {
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), text);
}

export function read(root: string, file: string): string {
  return readFileSync(join(root, file), 'utf8');
}

/** Line (1-based) of the first line containing `needle`. */
export function lineOf(root: string, file: string, needle: string): number {
  return (
    read(root, file)
      .split('\n')
      .findIndex((l) => l.includes(needle)) + 1
  );
}

/** The draft with SHMEM moved from bit 22 to bit 24: a feature-bit-renumbered break against 1.2. */
export function renumberShmem(root: string): number {
  edit(
    root,
    'spec/features/protocol.yaml',
    '  - name: VHOST_USER_PROTOCOL_F_SHMEM\n    bit: 22\n',
    '  - name: VHOST_USER_PROTOCOL_F_SHMEM\n    bit: 24\n',
  );
  return lineOf(root, 'spec/features/protocol.yaml', 'bit: 24');
}

export function git(cwd: string, args: string[]): string {
  const result = spawnSync(
    'git',
    [
      '-c',
      'user.name=Spec Test',
      '-c',
      'user.email=spec@example.org',
      '-c',
      'init.defaultBranch=main',
      '-c',
      'commit.gpgsign=false',
      ...args,
    ],
    { cwd, encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}
