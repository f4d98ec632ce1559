/** DPDK testpmd virtio_user (front-end) <-> TS back-end whose device takes chains through the ring core's fused serve pass. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtioFeature, featureMask } from '@vhost-user/codec';
import { VhostUserBackend, type DeviceQueue, type VhostUserDevice } from '@vhost-user/transport';
import { APT_DPDK, Peer, TempDir, missingPeer, testpmdVirtioUser } from './peers.js';

const skip = missingPeer(['dpdk-testpmd'], APT_DPDK);

/** Counts transmitted packets through DeviceQueue.serve (one queue pair; receive ring unused). */
class ServeSink implements VhostUserDevice {
  readonly features = featureMask(VirtioFeature.VIRTIO_F_VERSION_1);
  readonly queueCount = 2;
  packets = 0;
  /** Every first readable buffer holds a virtio-net header and a frame. */
  shortest = Infinity;
  /** Largest writable buffer seen (transmit chains have none). Recorded, not asserted here:
   *  a serve callback must not throw. */
  writable = 0;

  process(queue: DeviceQueue): void {
    if (queue.index % 2 === 0) return;
    if (queue.serve(this) > 0) queue.notify();
  }

  serve(_id: number, _readAt: number, readLength: number, _writeAt: number, writeLength: number): number {
    this.packets++;
    this.shortest = Math.min(this.shortest, readLength);
    this.writable = Math.max(this.writable, writeLength);
    return 0;
  }
}

describe.skipIf(skip !== undefined)('DPDK virtio_user <-> TS back-end on the fused serve pass', () => {
  let dir: TempDir;
  let testpmd: Peer | undefined;
  let backend: VhostUserBackend | undefined;

  beforeEach(() => {
    dir = new TempDir();
  });
  afterEach(async () => {
    await testpmd?.stop();
    backend?.close();
    dir.remove();
  });

  it('serves testpmd txonly packets with DeviceQueue.serve and counts every one', async () => {
    const sock = dir.file('net.sock');
    const errors: Error[] = [];
    const devices: ServeSink[] = [];
    backend = new VhostUserBackend(
      sock,
      () => {
        const device = new ServeSink();
        devices.push(device);
        return device;
      },
      { memoryBytes: 1 << 30, engine: 'wasm', onError: (e) => errors.push(e) },
    );
    await backend.listen();
    testpmd = testpmdVirtioUser(sock, `vuserve${process.pid}`);
    const deadline = Date.now() + 20_000;
    while ((devices[0]?.packets ?? 0) < 1000) {
      if (!testpmd.running) throw new Error(`testpmd exited:\n${testpmd.log}`);
      if (Date.now() > deadline)
        throw new Error(
          `${devices[0]?.packets ?? 0} packets so far; errors ${errors.map(String).join('; ')}\n${testpmd.log}`,
        );
      await new Promise((r) => setTimeout(r, 20));
    }
    const device = devices[0] as ServeSink;
    expect(device.packets).toBeGreaterThanOrEqual(1000);
    expect(device.shortest).toBeGreaterThanOrEqual(12); // at least the virtio-net header
    expect(device.writable).toBe(0); // transmit chains are read-only
    expect(errors).toEqual([]);
  });
});
