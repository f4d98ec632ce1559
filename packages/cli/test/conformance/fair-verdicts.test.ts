/**
 * The suite judges peers it was not tuned to fairly: a peer that dies is reported once and the
 * rest is "not run"; refusals by u64 error values count as refusals; a writable-only device
 * (virtio-rng) gets its own profile and no MUST failure.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { allCases } from '../../src/conformance/cases.js';
import { complete } from '../../src/conformance/model.js';
import { junitReport, textReport } from '../../src/conformance/report.js';
import { runCases } from '../../src/conformance/runner.js';
import { EntropyDevice, RefusingProxy } from './test-peers.js';
import { BlkBackendDevice, VhostUserBackend } from '@vhost-user/transport';

const FIXTURE = fileURLToPath(new URL('./fixtures/exits-on-third-message.mjs', import.meta.url));

let dir: string;
const cleanup: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  dir = mkdtempSync(join(tmpdir(), 'vu-conf-fair-'));
  return dir;
}

async function waitFor(path: string): Promise<void> {
  for (let i = 0; i < 500 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('peer liveness', () => {
  it('a back-end exiting on its third message: one report, the rest not run', async () => {
    const socket = join(tempDir(), 'dies.sock');
    const child = spawn(process.execPath, [FIXTURE, socket], { stdio: 'ignore' });
    cleanup.push(() => void (child.exitCode === null && child.kill('SIGKILL')));
    await waitFor(socket);
    const notes: string[] = [];
    const results = await runCases(allCases(), { socket, timeoutMs: 500, onNote: (n) => notes.push(n) });

    const reports = notes.filter((n) => n.startsWith('peer exited'));
    expect(reports).toHaveLength(1);
    const diedIn = results.findIndex((r) => r.detail?.includes('the peer exited during this case'));
    expect(diedIn, JSON.stringify(results.slice(0, 3), null, 1)).toBeGreaterThanOrEqual(0);
    const died = results[diedIn];
    expect(reports[0]).toContain(`during case ${died?.id}`);
    // Everything after the case it died in was not run (not failed), and says why.
    const after = results.slice(diedIn + 1);
    expect(after.length).toBeGreaterThan(50);
    expect(after.every((r) => r.outcome === 'not-run')).toBe(true);
    expect(after[0]?.detail).toBe(`not run: the peer exited during case ${died?.id}`);
    expect(complete(results)).toBe(false);
    expect(textReport(results, false)).toMatch(/\d+ not run \(the peer exited\)/);
    expect(junitReport('dies', results)).toContain(
      `<skipped message="not run: the peer exited during case ${died?.id}"/>`,
    );
  }, 60_000);

  it('with --spawn the peer is restarted, each death reported with its stderr, and no listener leaks', async () => {
    const socket = join(tempDir(), 'dies.sock');
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    cleanup.push(() => void process.off('warning', onWarning));
    // 14 cases: more than the 10 listeners after which Node warns about a leak.
    const cases = allCases()
      .filter((c) => c.section === 'replies')
      .slice(0, 14);
    expect(cases.length).toBe(14);
    const results = await runCases(cases, {
      socket,
      spawn: `${process.execPath} ${FIXTURE} ${socket}`,
      timeoutMs: 500,
    });
    expect(results.every((r) => r.outcome !== 'not-run')).toBe(true);
    const deaths = results.filter((r) => r.detail?.includes('the peer exited during this case'));
    expect(deaths.length).toBeGreaterThan(0);
    expect(deaths[0]?.detail).toMatch(/exit code 1: failed to handle request \d+: invalid message/);
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  }, 120_000);
});

describe('verdicts from what a reply means', () => {
  it('a back-end refusing gated requests with non-zero u64 values passes the gating cases', async () => {
    const d = tempDir();
    const backend = await VhostUserBackend.listen(join(d, 'inner.sock'), () => new EntropyDevice(), {
      memoryBytes: 16 << 20,
    });
    const proxy = new RefusingProxy(join(d, 'refusing.sock'), join(d, 'inner.sock'));
    cleanup.push(
      () => backend.close(),
      () => proxy.close(),
    );
    const cases = allCases().filter((c) => c.section === 'gating');
    const results = await runCases(cases, { socket: proxy.socket, timeoutMs: 500 });
    expect(results.filter((r) => r.outcome === 'fail').map((r) => `${r.id}: ${r.detail}`)).toEqual([]);
    // The two requests rust-vmm answers with an error value were judged on it, not skipped.
    for (const id of ['gating/SET_DEVICE_STATE_FD', 'gating/CHECK_DEVICE_STATE'])
      expect(results.find((r) => r.id === id)?.outcome, id).toBe('pass');
  }, 120_000);
});

describe('device profiles', () => {
  it('a writable-only device (one queue, virtio-rng) is recognised and gets no MUST failure', async () => {
    const d = tempDir();
    const devices: EntropyDevice[] = [];
    const backend = await VhostUserBackend.listen(
      join(d, 'rng.sock'),
      () => {
        const device = new EntropyDevice();
        devices.push(device);
        return device;
      },
      { memoryBytes: 64 << 20 },
    );
    cleanup.push(() => backend.close());
    const notes: string[] = [];
    const results = await runCases(allCases(), {
      socket: join(d, 'rng.sock'),
      timeoutMs: 1000,
      onNote: (n) => notes.push(n),
    });
    expect(notes).toContain('device profile: entropy (picked: one queue and no config space)');
    const mustFailures = results.filter((r) => r.level === 'MUST' && r.outcome === 'fail');
    expect(mustFailures.map((r) => `${r.id}: ${r.detail}`)).toEqual([]);
    // The data path really ran, on buffers the device only writes.
    for (const id of ['memory/set-mem-table-data-path', 'rings/start-on-kick', 'rings/stop-on-get-vring-base'])
      expect(results.find((r) => r.id === id)?.outcome, id).toBe('pass');
    expect(devices.reduce((n, dev) => n + dev.readableSeen, 0)).toBe(0);
  }, 120_000);

  it('a block device is recognised from its config space (the TS blk back-end)', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'disk.img'), Buffer.alloc(1 << 20));
    const backend = await VhostUserBackend.listen(
      join(d, 'blk.sock'),
      () => new BlkBackendDevice(join(d, 'disk.img')),
      { memoryBytes: 64 << 20 },
    );
    cleanup.push(() => backend.close());
    const notes: string[] = [];
    const cases = allCases().filter((c) => c.id === 'rings/disabled-until-enable');
    const [result] = await runCases(cases, {
      socket: join(d, 'blk.sock'),
      timeoutMs: 1000,
      onNote: (n) => notes.push(n),
    });
    expect(notes).toEqual([
      'device profile: blk (picked: VIRTIO_BLK_F_BLK_SIZE offered and a 512-byte block size in the config space)',
    ]);
    expect(result?.outcome).toBe('pass'); // a blk-only case ran
  });

  it('a profile whose ring the device lacks skips instead of failing (net on a one-queue device)', async () => {
    const d = tempDir();
    const backend = await VhostUserBackend.listen(join(d, 'rng.sock'), () => new EntropyDevice(), {
      memoryBytes: 64 << 20,
    });
    cleanup.push(() => backend.close());
    const cases = allCases().filter((c) => c.id === 'rings/start-on-kick');
    const [result] = await runCases(cases, { socket: join(d, 'rng.sock'), device: 'net', timeoutMs: 1000 });
    expect(result?.outcome).toBe('skip');
    expect(result?.detail).toBe('the net profile uses ring 1; the device has 1');
  });
});
