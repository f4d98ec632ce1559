/**
 * Live migration with dirty logging, against QEMU 7.2 (TCG, SeaBIOS, no guest OS): the guest
 * program of io-guest.ts runs on a source QEMU whose TS back-end (its own process) serves the
 * image; a destination QEMU with its own TS back-end over the same image waits on `-incoming`.
 * QMP `migrate` moves the running guest over a Unix socket. The guest must carry on on the
 * destination with every checksum right, and the source back-end's log must cover every page it
 * wrote while logging was on: the back-end process records those pages itself, apart from the
 * logging code (--check-log). A back-end that claims to log and does not fails that check, and the
 * guest on the destination finds device writes missing from its memory.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serialText } from './guest.js';
import { guestError, roundsIn, startBackendProcess, startIoQemu, until, writeIoGuestDisk } from './io-guest.js';
import { APT_QEMU, Peer, TempDir, missingPeer } from './peers.js';
import { QmpClient } from './qmp-client.js';

const skip = missingPeer(['qemu-system-x86_64', 'as', 'ld'], `${APT_QEMU} binutils`);

interface MigrationInfo {
  status: string;
  'error-desc'?: string;
}

describe.skipIf(skip !== undefined)('live migration between two QEMU 7.2 with TS back-ends (dirty log)', () => {
  let dir: TempDir;
  const peers: Peer[] = [];
  const clients: QmpClient[] = [];

  beforeEach(() => {
    dir = new TempDir();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const p of peers.splice(0)) await p.stop();
    dir.remove();
  });

  const start = (peer: Peer) => (peers.push(peer), peer);

  it('the guest runs on at the destination and the source log covers every page its back-end wrote', async () => {
    const r = await runMigration([]);
    expect(r.status).toBe('completed');
    expect(guestError(r.dst)).toBeUndefined();
    expect(r.dstRounds.next - r.dstRounds.first).toBeGreaterThanOrEqual(300);
    // The destination picks up where the source stopped.
    expect(r.dstRounds.first).toBeLessThanOrEqual(r.srcRounds.next + 1);
    expect(r.log.written).toBeGreaterThan(0);
    expect(r.log.missing).toBe(0);
  }, 240_000);

  it('a back-end that does not mark its writes fails the log check', async () => {
    const r = await runMigration(['--drop-log-marks']);
    expect(r.log.written).toBeGreaterThan(0);
    expect(r.log.marked).toBe(0);
    expect(r.log.missing).toBe(r.log.written);
    // The pages it wrote after they were copied never reached the destination, and the guest sees it.
    expect(r.dstOutcome).toMatch(/^ERR (guest memory lost a write of the device|data read back differs)/);
  }, 240_000);

  it('postcopy: QEMU 7.2 refuses it, since the TS back-end offers no PAGEFAULT (no userfaultfd yet)', async () => {
    const image = dir.file('disk.img');
    writeIoGuestDisk(dir.path, image);
    const backend = start(startBackendProcess(dir.file('dst.sock'), image));
    await backend.waitForLog((log) => log.includes('READY'), 30_000);
    const dst = start(
      startIoQemu({
        socket: dir.file('dst.sock'),
        serial: dir.file('dst.log'),
        qmp: dir.file('dst.qmp'),
        incoming: dir.file('mig.sock'),
      }),
    );
    const qmp = await QmpClient.connect(dir.file('dst.qmp'));
    clients.push(qmp);
    await expect(
      qmp.execute('migrate-set-capabilities', { capabilities: [{ capability: 'postcopy-ram', state: true }] }),
    ).rejects.toThrow('Postcopy is not supported');
    await dst.waitForLog((log) => log.includes('vhost-user backend not capable of postcopy'));
  }, 120_000);

  /** Migrates, lets the destination run, quits the source; returns what each side saw. */
  async function runMigration(sourceFlags: string[]) {
    const image = dir.file('disk.img');
    writeIoGuestDisk(dir.path, image);
    const [srcSerial, dstSerial, srcQmp, dstQmp, stream] = ['src.log', 'dst.log', 'src.qmp', 'dst.qmp', 'mig.sock'].map(
      (f) => dir.file(f),
    ) as [string, string, string, string, string];
    const srcBackend = start(startBackendProcess(dir.file('src.sock'), image, ['--check-log', ...sourceFlags]));
    const dstBackend = start(startBackendProcess(dir.file('dst.sock'), image));
    await srcBackend.waitForLog((log) => log.includes('READY'), 30_000);
    await dstBackend.waitForLog((log) => log.includes('READY'), 30_000);
    const src = start(startIoQemu({ socket: dir.file('src.sock'), serial: srcSerial, qmp: srcQmp }));
    const dst = start(startIoQemu({ socket: dir.file('dst.sock'), serial: dstSerial, qmp: dstQmp, incoming: stream }));
    await until('the guest to run', () => roundsIn(serialText(srcSerial)).next >= 300, 60_000, [src, srcBackend]);

    const qmp = await QmpClient.connect(srcQmp);
    clients.push(qmp);
    await qmp.execute('migrate-set-parameters', { 'max-bandwidth': 1 << 30 });
    await qmp.execute('migrate', { uri: `unix:${stream}` });
    let status = 'setup';
    const deadline = Date.now() + 120_000;
    while (status !== 'completed' && status !== 'failed') {
      if (Date.now() > deadline) throw new Error(`migration still ${status}`);
      const info = await qmp.execute<MigrationInfo>('query-migrate');
      status = info.status;
      if (info['error-desc']) throw new Error(`migration failed: ${info['error-desc']}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const srcRounds = roundsIn(serialText(srcSerial));
    // The destination runs on by itself (or stops on an error line).
    const dstOutcome = await until(
      'the destination guest to run on',
      () =>
        guestError(serialText(dstSerial)) !== undefined || roundsIn(serialText(dstSerial)).next >= srcRounds.next + 300,
      60_000,
      [dst, dstBackend],
    ).then(
      () => guestError(serialText(dstSerial)) ?? 'ran on',
      (error: Error) => `stalled: ${error.message}`,
    );
    // Quitting the source ends its back-end session, which prints the log check.
    await qmp.execute('quit').catch(() => undefined);
    await src.exited;
    await srcBackend.waitForLog((log) => /LOG written=/.test(log), 10_000);
    const m = /LOG written=(\d+) marked=(\d+) missing=(\d+)/.exec(srcBackend.log) as RegExpExecArray;
    const dst_ = serialText(dstSerial);
    return {
      status,
      dst: dst_,
      dstOutcome,
      srcRounds,
      dstRounds: guestError(dst_) ? { first: 0, next: 0 } : roundsIn(dst_),
      log: { written: Number(m[1]), marked: Number(m[2]), missing: Number(m[3]) },
    };
  }
});
