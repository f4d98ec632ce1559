/**
 * The back-end's GET/SET_INFLIGHT_FD and SET_LOG_BASE/SET_LOG_FD with the TS front-end: the
 * buffer comes back with its fd and size, a handed-back buffer is mapped, bad descriptions are
 * refused, and no fd is left open after the session.
 */
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ProtocolFeature, VirtioFeature, featureMask } from '@vhost-user/codec';
import {
  BlkBackendDevice,
  EventFd,
  FRONTEND_PROTOCOL_FEATURES,
  VhostUserBackend,
  VhostUserFrontend,
  closeFds,
  inflightBufferBytes,
  native,
} from '@vhost-user/transport';
import { openFds } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'vu-inflight-'));
const image = join(dir, 'disk.img');
const fd = openSync(image, 'w');
ftruncateSync(fd, 1 << 20);
closeSync(fd);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('inflight buffer and dirty log requests', () => {
  it('hands out and takes back the inflight buffer, maps the log, and leaks no fd', async () => {
    const sock = join(dir, 'b.sock');
    const errors: Error[] = [];
    let ended = 0;
    const backend = await VhostUserBackend.listen(sock, () => new BlkBackendDevice(image), {
      memoryBytes: 16 << 20,
      onError: (e) => errors.push(e),
      onSessionEnd: () => ended++,
    });
    const before = openFds();
    const fe = VhostUserFrontend.connect(sock);
    const want =
      FRONTEND_PROTOCOL_FEATURES |
      featureMask(
        ProtocolFeature.VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD,
        ProtocolFeature.VHOST_USER_PROTOCOL_F_LOG_SHMFD,
      );
    await fe.handshake(featureMask(VirtioFeature.VIRTIO_F_VERSION_1, VirtioFeature.VHOST_F_LOG_ALL), want);
    expect(fe.hasProtocolFeature(ProtocolFeature.VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD)).toBe(true);
    expect(fe.hasProtocolFeature(ProtocolFeature.VHOST_USER_PROTOCOL_F_LOG_SHMFD)).toBe(true);
    expect(fe.negotiated?.features ?? 0n).toBe(
      featureMask(
        VirtioFeature.VIRTIO_F_VERSION_1,
        VirtioFeature.VHOST_F_LOG_ALL,
        VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES,
      ),
    );
    await fe.setFeatures();

    let inflightFd = -1;
    const description = await fe.conn.call(
      {
        name: 'VHOST_USER_GET_INFLIGHT_FD',
        payload: { mmapSize: 0n, mmapOffset: 0n, numQueues: 1, queueSize: 128 },
      },
      { onReplyFds: ([f]) => (inflightFd = f as number) },
    );
    expect(description).toEqual({
      mmapSize: BigInt(inflightBufferBytes(1, 128, false)),
      mmapOffset: 0n,
      numQueues: 1,
      queueSize: 128,
    });
    expect(native.fstatSize(inflightFd)).toBe(inflightBufferBytes(1, 128, false));
    await fe.conn.request({ name: 'VHOST_USER_SET_INFLIGHT_FD', payload: description }, { fds: [inflightFd] });
    // A description larger than the fd, or for queues the buffer cannot hold, is refused.
    await expect(
      fe.conn.request(
        {
          name: 'VHOST_USER_SET_INFLIGHT_FD',
          payload: { ...description, numQueues: 4, mmapSize: description.mmapSize },
        },
        { fds: [inflightFd] },
      ),
    ).rejects.toMatchObject({ code: 'NACK' });
    closeFds([inflightFd]);

    const log = native.memfdCreate('log', 4096);
    const reply = await fe.conn.call(
      { name: 'VHOST_USER_SET_LOG_BASE', payload: { mmapSize: 4096n, mmapOffset: 0n } },
      { fds: [log] },
    );
    expect(reply.value).toBe(0n);
    closeFds([log]);
    const logFd = new EventFd();
    await fe.conn.request({ name: 'VHOST_USER_SET_LOG_FD', payload: null }, { fds: [logFd.fd] });
    logFd.close();

    fe.close();
    for (let i = 0; i < 200 && ended === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(ended).toBe(1);
    expect([...openFds()].filter(([f, target]) => before.get(f) !== target)).toEqual([]);
    backend.close();
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/smaller than 4 regions/)]);
  });
});
