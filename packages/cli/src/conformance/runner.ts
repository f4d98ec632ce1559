/**
 * Runs cases against a back-end socket. With a spawn command the peer is started by the runner,
 * restarted whenever it exited (peers such as virtiofsd serve one session and exit), and stopped
 * by its PID at the end. Without one, a peer that exits or stops accepting is reported once and
 * the remaining cases are not run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, unlinkSync } from 'node:fs';
import { ProtocolFeature, VirtioFeature, featureMask, hasFeature } from '@vhost-user/codec';
import { UnixSocket, isErrno } from '@vhost-user/transport';
import { CONFIG_PROBE_BYTES, DEVICES, pickProfile, type DeviceFacts, type DeviceProfile } from './devices.js';
import { Session, outcomeOfError } from './session.js';
import { Probe } from './probe.js';
import type { CaseResult, ConformanceCase } from './model.js';
import type { Expectations } from './expectations.js';

export interface RunOptions {
  socket: string;
  /** Shell command that starts the peer (it must create `socket`). */
  spawn?: string;
  /** Environment of the spawned peer (default: this process's). */
  spawnEnv?: NodeJS.ProcessEnv;
  /** Restart the spawned peer before every case (for peers that misbehave after a bad session). */
  restartEachCase?: boolean;
  /** A profile name (DEVICES); undefined or `auto`: picked from what the device reports. */
  device?: string;
  timeoutMs?: number;
  expectations?: Expectations;
  onResult?: (result: CaseResult) => void;
  /** Things worth one line each: the profile picked, a peer that exited. */
  onNote?: (note: string) => void;
}

/** Thrown by a case's open() when nobody accepts on the socket any more. */
export class PeerGone extends Error {}

const tail = (log: string, lines = 5) => log.trim().split('\n').slice(-lines).join(' | ');

class SpawnedPeer {
  private child: ChildProcess | undefined;
  log = '';

  constructor(
    private readonly command: string,
    private readonly socket: string,
    private readonly env?: NodeJS.ProcessEnv,
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The peer ended abnormally (a signal or a non-zero exit code); one-session peers exit with 0. */
  get crashed(): boolean {
    const c = this.child;
    return c !== undefined && !this.running && (c.signalCode !== null || c.exitCode !== 0);
  }

  /** How the last peer ended, with the tail of its output. */
  get exitSummary(): string {
    const c = this.child;
    const how = c?.signalCode ? `signal ${c.signalCode}` : `exit code ${c?.exitCode ?? '?'}`;
    return `${how}${this.log.trim() ? `: ${tail(this.log)}` : ''}`;
  }

  async ensure(): Promise<void> {
    if (this.running) return;
    if (existsSync(this.socket)) unlinkSync(this.socket);
    this.log = '';
    const child = spawn('/bin/sh', ['-c', `exec ${this.command}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: this.env ?? process.env,
    });
    child.stdout?.on('data', (d: Buffer) => (this.log = (this.log + d.toString()).slice(-8192)));
    child.stderr?.on('data', (d: Buffer) => (this.log = (this.log + d.toString()).slice(-8192)));
    this.child = child;
    const deadline = Date.now() + 15_000;
    while (!existsSync(this.socket)) {
      if (!this.running) throw new Error(`the peer exited before creating ${this.socket}: ${this.exitSummary}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${this.socket}: ${tail(this.log)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Waits up to `ms` for the peer to exit (a one-session peer after a disconnect). */
  private waitExit(ms: number): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        child.off('exit', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      child.on('exit', done);
    });
  }

  /** Gives a one-session peer a moment to exit after a disconnect, so the next case restarts it. */
  settle(ms: number): Promise<void> {
    return this.waitExit(ms);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running || child.pid === undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => this.running && child.kill('SIGKILL'), 3000);
    await this.waitExit(10_000);
    clearTimeout(timer);
  }
}

/** Whether anything accepts on `socket` now (one connect, closed at once). */
function accepting(socket: string): boolean {
  try {
    UnixSocket.connect(socket).close();
    return true;
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ECONNREFUSED')) return false;
    return true; // EAGAIN and alike: busy, not gone
  }
}

/**
 * One session that asks the device what it is: its features, queue count (MQ) and the start of
 * its config space (CONFIG). It sends as little as it can (no SET_PROTOCOL_FEATURES unless MQ or
 * CONFIG is offered).
 */
async function probeDevice(socket: string, timeoutMs: number): Promise<DeviceFacts> {
  const s = new Session(await Probe.connect(socket), DEVICES.generic as DeviceProfile, timeoutMs);
  try {
    const features = (await s.queryBody({ name: 'VHOST_USER_GET_FEATURES', payload: null })).value;
    if (!hasFeature(features, VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES)) return { features, config: false };
    const offered = await s.queryBody({ name: 'VHOST_USER_GET_PROTOCOL_FEATURES', payload: null });
    const wanted =
      offered.value &
      featureMask(ProtocolFeature.VHOST_USER_PROTOCOL_F_MQ, ProtocolFeature.VHOST_USER_PROTOCOL_F_CONFIG);
    const facts: DeviceFacts = { features, config: hasFeature(wanted, ProtocolFeature.VHOST_USER_PROTOCOL_F_CONFIG) };
    if (wanted === 0n) return facts;
    s.probe.send({ name: 'VHOST_USER_SET_PROTOCOL_FEATURES', payload: { value: wanted } });
    s.probe.protocolFeatures = wanted;
    if (hasFeature(wanted, ProtocolFeature.VHOST_USER_PROTOCOL_F_MQ)) {
      const count = ((await s.query({ name: 'VHOST_USER_GET_QUEUE_NUM', payload: null })).payload as { value?: bigint })
        ?.value;
      if (count !== undefined) facts.queueCount = Number(count);
    }
    if (facts.config) {
      const reply = await s.query({
        name: 'VHOST_USER_GET_CONFIG',
        payload: { offset: 0, flags: 0, data: new Uint8Array(CONFIG_PROBE_BYTES) },
      });
      facts.configBytes = (reply.payload as { data?: Uint8Array } | null)?.data;
    }
    return facts;
  } finally {
    s.close();
  }
}

export async function runCases(cases: readonly ConformanceCase[], options: RunOptions): Promise<CaseResult[]> {
  const named = options.device === undefined || options.device === 'auto' ? undefined : DEVICES[options.device];
  if (options.device !== undefined && options.device !== 'auto' && !named)
    throw new Error(`unknown device ${options.device} (known: auto, ${Object.keys(DEVICES).join(', ')})`);
  const timeoutMs = options.timeoutMs ?? 2000;
  const peer = options.spawn ? new SpawnedPeer(options.spawn, options.socket, options.spawnEnv) : undefined;
  const note = options.onNote ?? (() => undefined);
  const results: CaseResult[] = [];
  /** Set once a peer we did not start is gone: which case it died in, and how it showed. */
  let lost: { during: string; how: string } | undefined;
  const markLost = (during: string, how: string) => {
    lost = { during, how };
    note(`peer exited during ${during} (${how}); the remaining cases are not run`);
  };
  try {
    await peer?.ensure();
    let device = named;
    let queueCount: number | undefined;
    try {
      const facts = await probeDevice(options.socket, timeoutMs);
      queueCount = facts.queueCount;
      if (!device) {
        const pick = pickProfile(facts);
        device = pick.profile;
        note(`device profile: ${device.name} (picked: ${pick.reason})`);
      }
    } catch (error) {
      device ??= DEVICES.generic as DeviceProfile;
      note(`device profile: ${device.name} (the device could not be probed: ${(error as Error).message})`);
    }
    await peer?.settle(100);
    let previous: CaseResult | undefined;
    for (const c of cases) {
      const started = Date.now();
      const result: CaseResult = {
        id: c.id,
        section: c.section,
        anchor: c.anchor,
        level: c.level,
        title: c.title,
        outcome: 'pass',
        ms: 0,
      };
      if (lost) {
        result.outcome = 'not-run';
        result.detail = `not run: the peer exited during ${lost.during}`;
        results.push(result);
        options.onResult?.(result);
        continue;
      }
      const sessions: Session[] = [];
      try {
        if (peer && options.restartEachCase) await peer.stop();
        await peer?.ensure();
        await c.run({
          timeoutMs,
          open: async () => {
            await peer?.ensure();
            let probe: Probe;
            try {
              probe = await Probe.connect(options.socket, peer ? 5000 : 500);
            } catch (error) {
              if (!peer && (isErrno(error, 'ENOENT') || isErrno(error, 'ECONNREFUSED')))
                throw new PeerGone((error as Error).message);
              throw error;
            }
            const s = new Session(probe, device, timeoutMs, queueCount);
            sessions.push(s);
            return s;
          },
        });
      } catch (error) {
        if (error instanceof PeerGone && sessions.length === 0) {
          // Gone before this case connected: it died during (or right after) the previous case.
          const during = previous === undefined ? 'the device probe' : `case ${previous.id}`;
          markLost(during, error.message);
          if (previous)
            previous.detail = `${previous.detail ? `${previous.detail} — ` : ''}the peer exited during this case`;
          result.outcome = 'not-run';
          result.detail = `not run: the peer exited during ${during}`;
        } else ({ outcome: result.outcome, detail: result.detail } = outcomeOfError(error));
      } finally {
        for (const s of sessions) s.close();
      }
      if (peer) {
        await peer.settle(100);
        if (result.outcome === 'fail' && peer.crashed)
          result.detail = `${result.detail} — the peer exited during this case (${peer.exitSummary})`;
      } else if (!lost && result.outcome === 'fail' && !accepting(options.socket)) {
        markLost(`case ${c.id}`, 'nothing accepts on its socket any more');
        result.detail = `${result.detail} — the peer exited during this case`;
      }
      applyExpectation(result, options.expectations);
      result.ms = Date.now() - started;
      results.push(result);
      options.onResult?.(result);
      previous = result;
    }
  } finally {
    await peer?.stop();
  }
  flagStale(results, options.expectations);
  return results;
}

/**
 * A recorded divergence turns a failure into known-divergence; one the run did not see (the case
 * passed) is flagged stale. A wildcard (`section/*`) is stale only when none of its cases diverged
 * (see flagStale), since it is meant to cover some of them.
 */
export function applyExpectation(result: CaseResult, expectations: Expectations | undefined): void {
  const divergence = expectations?.divergenceFor(result.id);
  if (!divergence) return;
  result.divergence = { summary: divergence.summary, links: divergence.links };
  if (result.outcome === 'fail') result.outcome = 'known-divergence';
  else if (result.outcome === 'pass' && !divergence.case.endsWith('/*')) markStale(result);
}

function markStale(result: CaseResult): void {
  result.stale = true;
  result.detail = 'recorded divergence not seen: the expectation may be stale';
}

/** Flags the passing cases of wildcard divergences none of whose cases diverged in this run. */
export function flagStale(results: readonly CaseResult[], expectations: Expectations | undefined): void {
  for (const d of expectations?.divergences ?? []) {
    if (!d.case.endsWith('/*')) continue;
    const covered = results.filter((r) => expectations?.divergenceFor(r.id) === d);
    if (covered.some((r) => r.outcome === 'known-divergence')) continue;
    for (const r of covered) if (r.outcome === 'pass') markStale(r);
  }
}
