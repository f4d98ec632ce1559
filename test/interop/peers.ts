/**
 * Starting and stopping real vhost-user peers for interop tests: a fresh temp dir per test,
 * wait for the socket, stop by PID. In CI (CI=true) a missing peer fails the test; elsewhere
 * the test is skipped with the command that installs it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VhostUserFrontend, isErrno } from '@vhost-user/transport';

export const APT_QEMU = 'apt-get install -y --no-install-recommends qemu-system-x86 qemu-system-common qemu-utils';
export const APT_GPU = 'apt-get install -y --no-install-recommends qemu-system-gui';
export const APT_DPDK = 'apt-get install -y --no-install-recommends dpdk-dev librte-net-vhost23';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Full path of a program (absolute path or searched on PATH), or undefined. */
export function findProgram(name: string): string | undefined {
  if (name.startsWith('/')) return executable(name) ? name : undefined;
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const path = join(dir, name);
    if (dir && executable(path)) return path;
  }
  return undefined;
}

/** Why the test cannot run here, or undefined when every program exists. In CI a missing
 *  program throws (a failure, not a skip). */
export function missingPeer(programs: string[], install: string): string | undefined {
  const missing = programs.filter((p) => !findProgram(p));
  if (missing.length === 0) return undefined;
  const message = `missing ${missing.join(', ')}; install with: ${install}`;
  if (process.env.CI === 'true') throw new Error(`interop peer not installed in CI: ${message}`);
  console.warn(`skipping: ${message}`);
  return message;
}

export class TempDir {
  readonly path = mkdtempSync(join(tmpdir(), 'vu-interop-'));
  file(name: string): string {
    return join(this.path, name);
  }
  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

export class Peer {
  readonly process: ChildProcess;
  private output = '';
  readonly exited: Promise<number | null>;

  constructor(
    readonly command: string,
    readonly args: string[],
    options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
  ) {
    this.process = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.process.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.process.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => this.process.on('exit', (code) => resolve(code)));
  }

  get log(): string {
    return this.output;
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Waits until `path` exists (the peer's socket), failing early if the peer exits. */
  async waitForPath(path: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!existsSync(path)) {
      if (!this.running)
        throw new Error(`${this.command} exited (${this.process.exitCode}) before creating ${path}:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${path}:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Waits until `predicate(log)` holds. */
  async waitForLog(predicate: (log: string) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.output)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting on ${this.command}'s output:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** SIGTERM by PID, then SIGKILL if it lingers. */
  async stop(timeoutMs = 3000): Promise<void> {
    if (!this.running || this.process.pid === undefined) return;
    process.kill(this.process.pid, 'SIGTERM');
    const timer = setTimeout(() => {
      if (this.running && this.process.pid !== undefined) process.kill(this.process.pid, 'SIGKILL');
    }, timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export function readBytes(path: string, offset: number, length: number): Uint8Array {
  return readFileSync(path).subarray(offset, offset + length);
}

/**
 * Connects a front-end once the peer listens. A daemon binds its socket file a moment before it
 * listens, so the file's existence is not enough: ECONNREFUSED is retried briefly.
 */
/**
 * DPDK testpmd with its virtio_user front-end (independent of QEMU's) on `socket`, sending
 * 64-byte packets (txonly); `prefix` keeps its runtime files apart from other testpmd runs.
 */
export function testpmdVirtioUser(socket: string, prefix: string): Peer {
  return new Peer('stdbuf', [
    '-oL',
    'dpdk-testpmd',
    '-l',
    '0-1',
    '--no-pci',
    '--no-huge',
    '-m',
    '512',
    '--no-shconf',
    '--file-prefix',
    prefix,
    '--vdev',
    `net_virtio_user0,path=${socket},queues=1,queue_size=256`,
    '--',
    '--forward-mode=txonly',
    '--stats-period',
    '3600',
    '--nb-cores=1',
    '--total-num-mbufs=8192',
  ]);
}

export async function connectFrontend(path: string, timeoutMs = 5000): Promise<VhostUserFrontend> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return VhostUserFrontend.connect(path);
    } catch (error) {
      if (!isErrno(error, 'ECONNREFUSED') || Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
