/**
 * The blk device at rust-vmm parity: asynchronous I/O, short transfers reported as IOERR (#20
 * D12), packed rings, EVENT_IDX and several queues negotiated and used by the TS client.
 */
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { VirtioFeature, hasFeature } from '@vhost-user/codec';
import {
  BlkBackendDevice,
  VhostUserBackend,
  VhostUserBlkClient,
  VIRTIO_BLK,
  type BackendSession,
} from '@vhost-user/transport';

const dir = mkdtempSync(join(tmpdir(), 'vu-blkdev-'));
let backend: VhostUserBackend | undefined;
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await backend?.close();
});

function image(bytes: number): string {
  const path = join(dir, `disk${n++}.img`);
  const fd = openSync(path, 'w');
  ftruncateSync(fd, bytes);
  closeSync(fd);
  return path;
}

describe('BlkBackendDevice', () => {
  it('reports IOERR when the image shrank under a running back-end, never stale data (#20 D12)', async () => {
    const path = image(1 << 20);
    backend = await VhostUserBackend.listen(join(dir, `s${n}.sock`), () => new BlkBackendDevice(path), {
      memoryBytes: 64 << 20,
    });
    const client = await VhostUserBlkClient.open(backend.path);
    await client.write(512 * 1024, new Uint8Array(4096).fill(9));
    expect((await client.read(512 * 1024, 4096))[0]).toBe(9);
    truncateSync(path, 256 * 1024); // the capacity the device announced is no longer there
    await expect(client.read(512 * 1024, 4096)).rejects.toMatchObject({ status: VIRTIO_BLK.S_IOERR });
    await expect(client.read(256 * 1024 - 2048, 4096)).rejects.toMatchObject({ status: VIRTIO_BLK.S_IOERR }); // short
    expect((await client.read(0, 4096)).length).toBe(4096); // what is left still reads
    client.close();
  });

  it.each([
    ['split', false],
    ['packed', true],
  ] as const)('%s rings, EVENT_IDX and two queues: both queues carry requests', async (_, packed) => {
    const path = image(4 << 20);
    const sessions: BackendSession[] = [];
    backend = await VhostUserBackend.listen(join(dir, `s${n}.sock`), () => new BlkBackendDevice(path, { queues: 2 }), {
      memoryBytes: 64 << 20,
    });
    const client = await VhostUserBlkClient.open(backend.path, { queues: 2, packed, eventIdx: true });
    sessions.push(...backend.sessions);
    const session = sessions[0] as BackendSession;
    expect(hasFeature(session.features, VirtioFeature.VIRTIO_F_RING_PACKED)).toBe(packed);
    expect(hasFeature(session.features, VirtioFeature.VIRTIO_F_EVENT_IDX)).toBe(true);
    expect(hasFeature(session.features, VIRTIO_BLK.F_MQ)).toBe(true);
    expect(client.queues).toHaveLength(2);
    const data = new Uint8Array(64 * 1024).map((_, i) => (i * 31) & 0xff);
    await Promise.all(Array.from({ length: 16 }, (_, i) => client.write(i * 65536, data)));
    const back = await Promise.all(Array.from({ length: 16 }, (_, i) => client.read(i * 65536, 65536)));
    for (const b of back) expect(Buffer.from(b).equals(Buffer.from(data))).toBe(true);
    await client.flush();
    const positions = await client.stop();
    expect(positions.every((p) => (p & 0x7fff) > 0)).toBe(true); // both rings processed requests
    client.close();
  });
});

describe('a guest larger than the session memory (windows)', () => {
  it.each([
    ['split', false],
    ['packed', true],
  ] as const)('%s rings over two queues: every transfer is right', async (_, packed) => {
    const path = image(8 << 20);
    backend = await VhostUserBackend.listen(join(dir, `s${n}.sock`), () => new BlkBackendDevice(path, { queues: 2 }), {
      memoryBytes: 16 << 20,
    });
    // About 90 MiB of guest RAM against a 16 MiB session memory.
    const client = await VhostUserBlkClient.open(backend.path, {
      queues: 2,
      packed,
      eventIdx: true,
      maxTransfer: 1 << 20,
    });
    const session = [...backend.sessions][0] as BackendSession;
    expect(session.memory.windowed).toBe(true);
    const blocks = Array.from({ length: 24 }, (_, i) => new Uint8Array(256 * 1024).fill(i + 1));
    await Promise.all(blocks.map((b, i) => client.write(i * b.length, b)));
    const back = await Promise.all(blocks.map((b, i) => client.read(i * b.length, b.length)));
    back.forEach((b, i) => expect(b.every((x) => x === i + 1)).toBe(true));
    client.close();
  });
});
