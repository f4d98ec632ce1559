/**
 * QEMU 7.2 with `vhost-user-blk-pci,num-queues=2,packed=on` against the TS back-end offering
 * two queues, packed rings, EVENT_IDX and INDIRECT: QEMU accepts the back-end (it refuses one
 * with fewer queues than num-queues) and SeaBIOS boots from it. SeaBIOS drives only queue 0 and
 * only split rings, so which ring features end up negotiated is the guest driver's choice; both
 * queues and the packed layout are exercised end to end by the TS client
 * (packages/transport/test/blk-device.test.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtioFeature, hasFeature } from '@vhost-user/codec';
import { BlkBackendDevice, VIRTIO_BLK, VhostUserBackend, type BackendSession } from '@vhost-user/transport';
import { qmp, serialText, startQemuBlk, waitForMarker, writeBootDisk } from './guest.js';
import { APT_QEMU, Peer, TempDir, missingPeer } from './peers.js';

const skip = missingPeer(['qemu-system-x86_64'], APT_QEMU);
const MARKER = 'VHOST-TS-MQ';

describe.skipIf(skip !== undefined)('QEMU vhost-user-blk num-queues=2 packed=on', () => {
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

  it('boots from a back-end with two queues and packed rings on offer', { timeout: 60_000 }, async () => {
    const image = dir.file('boot.img');
    writeBootDisk(image, MARKER);
    const sock = dir.file('blk.sock');
    const errors: Error[] = [];
    const ended: BackendSession[] = [];
    const asked: string[] = [];
    backend = await VhostUserBackend.listen(sock, () => new BlkBackendDevice(image, { queues: 2 }), {
      memoryBytes: 256 << 20,
      onError: (e) => errors.push(e),
      onSessionEnd: (s) => ended.push(s),
      trace: (req) => asked.push(req.name),
    });
    const serial = dir.file('serial.log');
    const qmpPath = dir.file('qmp.sock');
    qemu = startQemuBlk(sock, serial, qmpPath, { deviceProps: 'num-queues=2,packed=on' });
    await waitForMarker(qemu, serial, MARKER, 40_000);
    expect(serialText(serial)).toContain(MARKER);
    const session = [...backend.sessions][0] as BackendSession;
    expect(asked).toContain('VHOST_USER_GET_QUEUE_NUM');
    const offered = session.offeredFeatures;
    for (const bit of [
      VirtioFeature.VIRTIO_F_RING_PACKED,
      VirtioFeature.VIRTIO_F_EVENT_IDX,
      VirtioFeature.VIRTIO_F_INDIRECT_DESC,
      VIRTIO_BLK.F_MQ,
    ])
      expect(hasFeature(offered, bit)).toBe(true);
    // What QEMU acked is a subset of the offer.
    expect(session.features & ~offered).toBe(0n);
    await qmp(qmpPath, ['qmp_capabilities', 'quit']);
    await qemu.exited;
    for (let i = 0; i < 100 && ended.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(ended).toHaveLength(1);
    expect(ended[0]?.ringState(0).base).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  });
});
