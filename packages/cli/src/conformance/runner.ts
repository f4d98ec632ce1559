/**
 * Runs cases against a back-end socket. With a spawn command the peer is started by the runner
 * and restarted whenever it exited (peers such as virtiofsd serve one session and exit), and
 * stopped by its PID at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, unlinkSync } from 'node:fs';
import { DEVICES, Session, outcomeOfError } from './session.js';
import { Probe } from './probe.js';
import type { CaseResult, ConformanceCase } from './model.js';
import type { Expectations } from './expectations.js';

export interface RunOptions {
  socket: string;
  /** Shell command that starts the peer (it must create `socket`). */
  spawn?: string;
  /** Restart the spawned peer before every case (for peers that misbehave after a bad session). */
  restartEachCase?: boolean;
  device?: string;
  timeoutMs?: number;
  expectations?: Expectations;
  onResult?: (result: CaseResult) => void;
}

class SpawnedPeer {
  private child: ChildProcess | undefined;
  log = '';

  constructor(
    private readonly command: string,
    private readonly socket: string,
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async ensure(): Promise<void> {
    if (this.running) return;
    if (existsSync(this.socket)) unlinkSync(this.socket);
    this.log = '';
    const child = spawn('/bin/sh', ['-c', `exec ${this.command}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => (this.log = (this.log + d.toString()).slice(-8192)));
    child.stderr?.on('data', (d: Buffer) => (this.log = (this.log + d.toString()).slice(-8192)));
    this.child = child;
    const deadline = Date.now() + 15_000;
    while (!existsSync(this.socket)) {
      if (!this.running) throw new Error(`the peer exited before creating ${this.socket}:\n${this.log}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${this.socket}:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Gives a one-session peer a moment to exit after a disconnect, so the next case restarts it. */
  async settle(ms: number): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      child.once('exit', () => (clearTimeout(timer), resolve()));
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running || child.pid === undefined) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => this.running && child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}

export async function runCases(cases: readonly ConformanceCase[], options: RunOptions): Promise<CaseResult[]> {
  const device = options.device === undefined ? undefined : DEVICES[options.device];
  if (options.device !== undefined && !device)
    throw new Error(`unknown device ${options.device} (known: ${Object.keys(DEVICES).join(', ')})`);
  const timeoutMs = options.timeoutMs ?? 2000;
  const peer = options.spawn ? new SpawnedPeer(options.spawn, options.socket) : undefined;
  const results: CaseResult[] = [];
  try {
    for (const c of cases) {
      const started = Date.now();
      const sessions: Session[] = [];
      let outcome: CaseResult['outcome'] = 'pass';
      let detail: string | undefined;
      try {
        if (peer && options.restartEachCase) await peer.stop();
        await peer?.ensure();
        await c.run({
          timeoutMs,
          open: async () => {
            await peer?.ensure();
            const s = new Session(await Probe.connect(options.socket), device, timeoutMs);
            sessions.push(s);
            return s;
          },
        });
      } catch (error) {
        ({ outcome, detail } = outcomeOfError(error));
      } finally {
        for (const s of sessions) s.close();
      }
      await peer?.settle(100);
      const divergence = options.expectations?.divergenceFor(c.id);
      if (divergence && outcome === 'fail') outcome = 'known-divergence';
      const result: CaseResult = {
        id: c.id,
        section: c.section,
        anchor: c.anchor,
        level: c.level,
        title: c.title,
        outcome,
        ms: Date.now() - started,
      };
      if (detail) result.detail = detail;
      if (divergence) result.divergence = { summary: divergence.summary, links: divergence.links };
      if (divergence && outcome === 'pass')
        result.detail = 'recorded divergence not seen: the expectation may be stale';
      results.push(result);
      options.onResult?.(result);
    }
  } finally {
    await peer?.stop();
  }
  return results;
}
