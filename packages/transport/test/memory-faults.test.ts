/**
 * Guest memory a peer cannot turn into a signal (#20 D1): a front-end that shrinks its memfd
 * under a running ring costs its own session a device error; the process and every other
 * session keep going.
 */
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VirtioFeature, featureMask } from '@vhost-user/codec';
import {
  BlkBackendDevice,
  DriverQueue,
  FrontendGuestMemory,
  MemoryError,
  VhostUserBackend,
  VhostUserBlkClient,
  VhostUserFrontend,
  native,
} from '@vhost-user/transport';

const dir = mkdtempSync(join(tmpdir(), 'vu-faults-'));
const image = join(dir, 'disk.img');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a front-end that shrinks its memory under a running ring', () => {
  it('gets a device error for its session; the process serves the other sessions', async () => {
    const fd = openSync(image, 'w');
    ftruncateSync(fd, 1 << 20);
    closeSync(fd);
    const errors: Error[] = [];
    const sock = join(dir, 'b.sock');
    const backend = new VhostUserBackend(sock, () => new BlkBackendDevice(image), {
      memoryBytes: 64 << 20,
      onError: (e) => errors.push(e),
    });
    await backend.listen();
    try {
      const good = await VhostUserBlkClient.open(sock);
      await good.write(512, new Uint8Array(512).fill(7));

      // The hostile one: memory and a started ring, then ftruncate(memfd, 0) and a kick.
      const memory = new FrontendGuestMemory({ size: 1 << 20 });
      const fe = VhostUserFrontend.connect(sock);
      await fe.handshake(featureMask(VirtioFeature.VIRTIO_F_VERSION_1));
      await fe.setFeatures();
      await fe.setMemory(memory);
      const queue = await DriverQueue.start(fe, memory, 0, 16);
      native.ftruncate(memory.fd, 0);
      queue.ring.kick.signal();
      for (let i = 0; i < 200 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
      expect(errors.some((e) => e instanceof MemoryError && e.code === 'FAULT')).toBe(true);

      // Still alive, and the other session is served.
      expect((await good.read(512, 512))[0]).toBe(7);
      const next = await VhostUserBlkClient.open(sock);
      expect((await next.read(512, 512))[0]).toBe(7);
      next.close();
      good.close();
      fe.close();
      memory.close();
    } finally {
      backend.close();
    }
  });
});
