/** DPDK testpmd virtio_user (front-end) <-> TS back-end (net): full start, packets received and counted. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NetSinkDevice, VhostUserBackend, type BackendSession } from '@vhost-user/transport';
import { APT_DPDK, Peer, TempDir, missingPeer, testpmdVirtioUser } from './peers.js';

const skip = missingPeer(['dpdk-testpmd'], APT_DPDK);

describe.skipIf(skip !== undefined)('DPDK virtio_user <-> TS back-end (net)', () => {
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

  it('testpmd txonly transmits packets that the back-end receives and counts', async () => {
    const sock = dir.file('net.sock');
    const errors: Error[] = [];
    const devices: NetSinkDevice[] = [];
    const ended: BackendSession[] = [];
    backend = new VhostUserBackend(
      sock,
      () => {
        const device = new NetSinkDevice();
        devices.push(device);
        return device;
      },
      { memoryBytes: 1 << 30, onError: (e) => errors.push(e), onSessionEnd: (s) => ended.push(s) },
    );
    await backend.listen();
    testpmd = testpmdVirtioUser(sock, `vu${process.pid}`);
    const deadline = Date.now() + 20_000;
    while ((devices[0]?.packets ?? 0) < 1000) {
      if (!testpmd.running) throw new Error(`testpmd exited:\n${testpmd.log}`);
      if (Date.now() > deadline)
        throw new Error(
          `${devices[0]?.packets ?? 0} packets so far; errors ${errors.map(String).join('; ')}\n${testpmd.log}`,
        );
      await new Promise((r) => setTimeout(r, 20));
    }
    const device = devices[0] as NetSinkDevice;
    expect(device.packets).toBeGreaterThanOrEqual(1000);
    expect(device.bytes).toBeGreaterThanOrEqual(device.packets * 60); // txonly frames are 64 bytes with FCS
    expect(errors).toEqual([]);
    await testpmd.stop();
    for (let i = 0; i < 100 && ended.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(ended).toHaveLength(1); // the session ended cleanly when testpmd went away
  });
});
