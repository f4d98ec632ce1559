/** TS front-end <-> vhost-user-gpu (QEMU's): the handshake. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProtocolFeature, VirtioFeature, featureMask, hasFeature } from '@vhost-user/codec';
import { APT_GPU, Peer, TempDir, connectFrontend, missingPeer } from './peers.js';

const GPU = '/usr/lib/qemu/vhost-user-gpu';
const skip = missingPeer([GPU], APT_GPU);

describe.skipIf(skip !== undefined)('TS front-end <-> vhost-user-gpu', () => {
  let dir: TempDir;
  let gpu: Peer;
  let sock: string;

  beforeEach(async () => {
    dir = new TempDir();
    sock = dir.file('gpu.sock');
    gpu = new Peer(GPU, [`--socket-path=${sock}`]);
    await gpu.waitForPath(sock);
  });

  afterEach(async () => {
    await gpu.stop();
    dir.remove();
  });

  it('negotiates features, claims the session and reads the GPU config space', async () => {
    const fe = await connectFrontend(sock);
    const n = await fe.handshake(featureMask(VirtioFeature.VIRTIO_F_VERSION_1));
    expect(hasFeature(n.offeredFeatures, VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES)).toBe(true);
    expect(hasFeature(n.offeredFeatures, VirtioFeature.VIRTIO_F_VERSION_1)).toBe(true);
    expect(await fe.queueCount()).toBeGreaterThanOrEqual(2); // control + cursor queues
    if (hasFeature(n.protocolFeatures, ProtocolFeature.VHOST_USER_PROTOCOL_F_CONFIG)) {
      // virtio-gpu config (events_read, events_clear, num_scanouts, num_capsets); the scanouts
      // are only known once GPU_SET_SOCKET gave it a display, so only the size is checked.
      expect((await fe.getConfig(0, 16)).length).toBe(16);
    }
    await fe.setFeatures();
    // GET_FEATURES as a barrier: the back-end took everything before it.
    const again = await fe.conn.call({ name: 'VHOST_USER_GET_FEATURES', payload: null });
    expect(again.value).toBe(n.offeredFeatures);
    fe.close();
  });
});
