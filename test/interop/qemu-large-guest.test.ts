/**
 * QEMU 7.2 guests larger than a session's memory boot from the TS vhost-user-blk back-end: the
 * regions (2 GiB at 0 and 6 GiB at 4 GiB for -m 8G; one per NUMA node) are served through
 * windows. The memfds are sparse: SeaBIOS touches a few pages, no real RAM is used.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlkBackendDevice, VhostUserBackend, type BackendSession } from '@vhost-user/transport';
import { qmp, serialText, startQemuBlk, waitForMarker, writeBootDisk } from './guest.js';
import { APT_QEMU, Peer, TempDir, missingPeer } from './peers.js';

const skip = missingPeer(['qemu-system-x86_64'], APT_QEMU);
const MARKER = 'VHOST-TS-LARGE';
const GiB = 2 ** 30;

const GUESTS: { name: string; memory: string[]; regions: { guestAddr: number; size: number }[] }[] = [
  {
    name: '-m 8G on one sparse memfd',
    memory: ['-m', '8G', '-object', 'memory-backend-memfd,id=mem,size=8G,share=on', '-numa', 'node,memdev=mem'],
    // q35 puts 2 GiB below 4 GiB and the rest above it.
    regions: [
      { guestAddr: 0, size: 2 * GiB },
      { guestAddr: 4 * GiB, size: 6 * GiB },
    ],
  },
  {
    name: 'two NUMA nodes of 2 GiB',
    memory: [
      '-m',
      '4G',
      '-object',
      'memory-backend-memfd,id=m0,size=2G,share=on',
      '-object',
      'memory-backend-memfd,id=m1,size=2G,share=on',
      '-numa',
      'node,nodeid=0,memdev=m0',
      '-numa',
      'node,nodeid=1,memdev=m1',
    ],
    regions: [
      { guestAddr: 0, size: 2 * GiB },
      { guestAddr: 4 * GiB, size: 2 * GiB },
    ],
  },
];

describe.skipIf(skip !== undefined)('QEMU guests larger than the back-end memory', () => {
  let dir: TempDir;
  let qemu: Peer | undefined;
  let backend: VhostUserBackend | undefined;

  beforeEach(() => {
    dir = new TempDir();
  });
  afterEach(async () => {
    await qemu?.stop();
    await backend?.close();
    dir.remove();
  });

  for (const guest of GUESTS) {
    it(`SeaBIOS boots from the TS back-end: ${guest.name}`, { timeout: 90_000 }, async () => {
      const image = dir.file('boot.img');
      writeBootDisk(image, MARKER);
      const sock = dir.file('blk.sock');
      const serial = dir.file('serial.log');
      const qmpPath = dir.file('qmp.sock');
      const errors: Error[] = [];
      const ended: BackendSession[] = [];
      let regions: { guestAddr: number; size: number }[] = [];
      let windowed = false;
      backend = await VhostUserBackend.listen(sock, () => new BlkBackendDevice(image), {
        memoryBytes: 256 << 20,
        onError: (e) => errors.push(e),
        onSessionEnd: (session) => ended.push(session),
      });
      const seen = setInterval(() => {
        const session = [...(backend as VhostUserBackend).sessions][0];
        if (session && session.memory.regionCount > regions.length) regions = session.memory.described();
        if (session?.memory.windowed) windowed = true;
      }, 5);
      try {
        qemu = startQemuBlk(sock, serial, qmpPath, { memory: guest.memory });
        await waitForMarker(qemu, serial, MARKER, 60_000);
      } finally {
        clearInterval(seen);
      }
      expect(serialText(serial)).toContain(MARKER);
      expect(regions).toEqual(guest.regions);
      expect(windowed).toBe(true);
      await qmp(qmpPath, ['qmp_capabilities', 'quit']);
      await qemu.exited;
      for (let i = 0; i < 100 && ended.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(ended).toHaveLength(1);
      expect((ended[0] as BackendSession).ringState(0).base).toBeGreaterThan(0);
      expect(errors).toEqual([]);
    });
  }
});
