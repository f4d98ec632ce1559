/** RESET_DEVICE, RESET_OWNER and SET_STATUS / GET_STATUS between the TS front-end and back-end. */
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ProtocolFeature } from '@vhost-user/codec';
import {
  BlkBackendDevice,
  EventFd,
  VIRTIO_STATUS,
  VhostUserBackend,
  VhostUserBlkClient,
  type BackendSession,
} from '@vhost-user/transport';

const dir = mkdtempSync(join(tmpdir(), 'vu-reset-'));
const image = join(dir, 'disk.img');
const fd = openSync(image, 'w');
ftruncateSync(fd, 1 << 20);
closeSync(fd);
let backend: VhostUserBackend | undefined;
let n = 0;

async function start(): Promise<{ sock: string; errors: Error[] }> {
  const sock = join(dir, `s${n++}.sock`);
  const errors: Error[] = [];
  backend = await VhostUserBackend.listen(sock, () => new BlkBackendDevice(image), {
    memoryBytes: 64 << 20,
    onError: (e) => errors.push(e),
  });
  return { sock, errors };
}

const session = () => [...(backend as VhostUserBackend).sessions][0] as BackendSession;
const READY = VIRTIO_STATUS.ACKNOWLEDGE | VIRTIO_STATUS.DRIVER | VIRTIO_STATUS.FEATURES_OK | VIRTIO_STATUS.DRIVER_OK;

afterEach(() => backend?.close());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('reset and status', () => {
  it('RESET_DEVICE stops and forgets every ring and the status, and keeps the session and its owner', async () => {
    const { sock, errors } = await start();
    const client = await VhostUserBlkClient.open(sock);
    const fe = client.frontend;
    expect(fe.hasProtocolFeature(ProtocolFeature.VHOST_USER_PROTOCOL_F_RESET_DEVICE)).toBe(true);
    await client.write(3 * 512, new Uint8Array(512).fill(7));
    expect(await fe.getStatus()).toBe(READY);
    expect(session().ringState(0)).toMatchObject({ started: true, enabled: true, position: 1 });

    await fe.resetDevice();
    expect(session().ringState(0)).toEqual({ num: 0, base: 0, started: false, enabled: false, position: 0 });
    expect(await fe.getStatus()).toBe(0);
    expect(session().isOwned).toBe(true);
    expect((backend as VhostUserBackend).sessions.size).toBe(1);
    // The ring has to be set up again: a kick without size and addresses is refused.
    const kick = new EventFd();
    await expect(
      fe.conn.request({ name: 'VHOST_USER_SET_VRING_KICK', payload: { value: 0n } }, { fds: [kick.fd] }),
    ).rejects.toMatchObject({ code: 'NACK' });
    kick.close();
    await fe.setStatus(VIRTIO_STATUS.ACKNOWLEDGE);
    expect(await fe.getStatus()).toBe(VIRTIO_STATUS.ACKNOWLEDGE);
    client.close();
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/started before its size and addresses/)]);
  });

  it('a zero status leaves ring positions for GET_VRING_BASE (QEMU 7.2 stops rings after it)', async () => {
    const { sock } = await start();
    const client = await VhostUserBlkClient.open(sock);
    await client.write(512, new Uint8Array(512));
    await client.read(512, 512);
    await client.frontend.setStatus(0);
    expect(await client.frontend.getStatus()).toBe(0);
    expect(await client.stop()).toEqual([2]);
    client.close();
  });

  it('RESET_OWNER only disables the rings: their setup and position stay', async () => {
    const { sock } = await start();
    const client = await VhostUserBlkClient.open(sock);
    await client.write(512, new Uint8Array(512));
    await client.frontend.conn.request({ name: 'VHOST_USER_RESET_OWNER', payload: null });
    const state = session().ringState(0);
    expect(state).toMatchObject({ started: false, enabled: false, base: 1 });
    expect(state.num).toBeGreaterThan(0);
    client.close();
  });
});
