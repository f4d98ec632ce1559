/** TS front-end (net) <-> DPDK testpmd vhost PMD: a packet sent on the TX ring comes back on RX. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtioFeature, featureMask } from '@vhost-user/codec';
import { DriverQueue, FrontendGuestMemory } from '@vhost-user/transport';
import { APT_DPDK, Peer, TempDir, connectFrontend, missingPeer } from './peers.js';

const skip = missingPeer(['dpdk-testpmd'], APT_DPDK);
/** virtio-net header with VERSION_1 (virtio spec, not vhost-user): 12 bytes. */
const NET_HEADER = 12;

function frame(marker: string): Uint8Array {
  const payload = new TextEncoder().encode(marker);
  const f = new Uint8Array(Math.max(60, 14 + payload.length));
  f.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x01, 0x88, 0xb5]); // broadcast, local MAC, experimental ethertype
  f.set(payload, 14);
  return f;
}

describe.skipIf(skip !== undefined)('TS front-end <-> DPDK testpmd (vhost PMD)', () => {
  let dir: TempDir;
  let testpmd: Peer;
  let sock: string;

  beforeEach(async () => {
    dir = new TempDir();
    sock = dir.file('vhost.sock');
    testpmd = new Peer('stdbuf', [
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
      `vu${process.pid}`,
      '--vdev',
      `net_vhost0,iface=${sock},queues=1`,
      '--',
      '--stats-period',
      '3600',
      '--nb-cores=1',
      '--total-num-mbufs=8192',
    ]);
    await testpmd.waitForPath(sock, 20_000);
  });

  afterEach(async () => {
    await testpmd.stop();
    dir.remove();
  });

  it('io forwarding loops a TX packet back to RX', async () => {
    const fe = await connectFrontend(sock);
    const n = await fe.handshake(featureMask(VirtioFeature.VIRTIO_F_VERSION_1));
    const memory = new FrontendGuestMemory({ size: 4 << 20 });
    await fe.setFeatures(n.features);
    await fe.setMemory(memory);
    const rx = await DriverQueue.start(fe, memory, 0, 256);
    const tx = await DriverQueue.start(fe, memory, 1, 256);
    await fe.driverReady();

    const rxBuffers = Array.from({ length: 8 }, () => memory.allocate(2048, 64));
    const received = rxBuffers.map((addr) =>
      rx.submit([{ guestAddr: addr, length: 2048, writable: true }]).then((written) => ({ addr, written })),
    );
    const packet = frame('vhost-user TS front-end through DPDK');
    const txAddr = memory.allocate(NET_HEADER + packet.length, 64);
    memory.view(txAddr, NET_HEADER).fill(0);
    memory.view(txAddr + NET_HEADER, packet.length).set(packet);
    const sent = tx.submit([{ guestAddr: txAddr, length: NET_HEADER + packet.length, writable: false }]);

    const first = await Promise.race([
      ...received,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`no packet came back; testpmd said:\n${testpmd.log}`)), 8000),
      ),
    ]);
    expect(first.written).toBe(NET_HEADER + packet.length);
    expect(Buffer.from(memory.view(first.addr + NET_HEADER, packet.length)).equals(Buffer.from(packet))).toBe(true);
    // The TX chain was used by then (DPDK may not call for TX: reclaim by polling).
    tx.reclaim();
    expect(await sent).toBe(0);
    rx.close();
    tx.close();
    fe.close();
    memory.close();
  });
});
