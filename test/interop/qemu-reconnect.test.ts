/**
 * Back-end restart under load, against QEMU 7.2 (TCG, SeaBIOS, no guest OS): the guest program
 * of io-guest.ts keeps two requests in flight, the TS back-end runs as its own process and is
 * SIGKILLed while it holds a request that a later one overtook. QEMU reconnects
 * (`reconnect=1`) and hands the inflight buffer back; the new back-end resubmits the request and
 * the guest carries on with correct data. Without INFLIGHT_SHMFD the same run must fail: the
 * restarted back-end can only resume from the used index, so it serves the overtaking request
 * twice and never the held one.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serialText } from './guest.js';
import { checkedRounds, guestError, startBackendProcess, startIoQemu, until, writeIoGuestDisk } from './io-guest.js';
import { APT_QEMU, Peer, TempDir, missingPeer } from './peers.js';

const skip = missingPeer(['qemu-system-x86_64', 'as', 'ld'], `${APT_QEMU} binutils`);
/** The batch at which the first back-end starts holding a request: the guest is well under way. */
const HANG_AT = 300;

describe.skipIf(skip !== undefined)('QEMU reconnects to a restarted TS back-end (inflight tracking)', () => {
  let dir: TempDir;
  const peers: Peer[] = [];

  beforeEach(() => {
    dir = new TempDir();
  });
  afterEach(async () => {
    for (const p of peers.splice(0)) await p.stop();
    dir.remove();
  });

  /** Runs the guest, kills the back-end while it holds an overtaken request, restarts it. */
  async function killAndRestart(inflight: boolean): Promise<{ before: number; serial: string; second: Peer }> {
    const image = dir.file('disk.img');
    const socket = dir.file('blk.sock');
    const serial = dir.file('serial.log');
    writeIoGuestDisk(dir.path, image);
    const extra = inflight ? [] : ['--no-inflight'];
    const first = startBackendProcess(socket, image, ['--hang-at', String(HANG_AT), ...extra]);
    peers.push(first);
    await first.waitForLog((log) => log.includes('READY'), 30_000);
    const qemu = startIoQemu({ socket, serial, reconnect: true });
    peers.push(qemu);
    await until('the back-end to hold a request', () => first.log.includes('HELD'), 60_000, [first, qemu]);
    // SIGKILL: no goodbye, the request in flight is only in the inflight buffer (if at all).
    process.kill(first.process.pid as number, 'SIGKILL');
    await first.exited;
    const before = checkedRounds(serialText(serial));
    expect(before).toBeGreaterThanOrEqual(HANG_AT - 1);
    expect(guestError(serialText(serial))).toBeUndefined();

    const second = startBackendProcess(socket, image, extra);
    peers.push(second);
    // QEMU retries every second; then the guest either runs on or stops on an error.
    await until(
      'the guest to run on or fail',
      () => {
        const text = serialText(serial);
        return guestError(text) !== undefined || checkedRounds(text) >= before + 200;
      },
      60_000,
      [second, qemu],
    );
    return { before, serial: serialText(serial), second };
  }

  it('resubmits the request in flight: the guest sees no error and reads back what it wrote', async () => {
    const { before, serial, second } = await killAndRestart(true);
    expect(guestError(serial)).toBeUndefined();
    expect(checkedRounds(serial)).toBeGreaterThanOrEqual(before + 200);
    // QEMU handed the buffer back instead of asking for a new one.
    expect(second.log).toContain('REQ VHOST_USER_SET_INFLIGHT_FD');
    expect(second.log).not.toContain('REQ VHOST_USER_GET_INFLIGHT_FD');
    expect(second.log).not.toContain('ERROR');
  }, 180_000);

  it('without INFLIGHT_SHMFD the same restart loses the held request', async () => {
    const { serial, second } = await killAndRestart(false);
    expect(guestError(serial)).toBe('ERR request completed twice');
    expect(second.log).not.toContain('INFLIGHT_FD');
  }, 180_000);
});
