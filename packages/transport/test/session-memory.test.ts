/**
 * Guest memory of a back-end session: slot limits enforced before mapping (#20 D2), tables
 * replaced as transactions (D10, D13), and guests larger than the session's memory served
 * through windows at guest addresses above 4 GiB and 8 GiB (#15).
 */
import { closeSync, ftruncateSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VirtioFeature, featureMask } from '@vhost-user/codec';
import {
  BlkBackendDevice,
  VhostUserBackend,
  VhostUserBlkClient,
  VhostUserFrontend,
  VIRTIO_BLK,
  native,
  type BackendSession,
  type EngineName,
  type StartedRing,
} from '@vhost-user/transport';
import { openFdCount } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'vu-memory-'));
const image = join(dir, 'disk.img');
const IMAGE_BYTES = 4 << 20;
let backend: VhostUserBackend;
let counter = 0;
const errors: Error[] = [];

async function start(
  options: { memoryBytes?: number; maxMemSlots?: number; engine?: EngineName; memSlots?: boolean } = {},
) {
  const sock = join(dir, `m${counter++}.sock`);
  backend = await VhostUserBackend.listen(sock, () => new BlkBackendDevice(image), {
    memoryBytes: 64 << 20,
    onError: (e) => errors.push(e),
    ...options,
  });
  return sock;
}

const onlySession = () => [...backend.sessions][0] as BackendSession;

beforeAll(() => {
  const fd = openSync(image, 'w');
  ftruncateSync(fd, IMAGE_BYTES);
  closeSync(fd);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await backend.close();
  errors.length = 0;
});

const region = (guestAddress: bigint, size: bigint, userAddress = 0x10_0000_0000n + guestAddress) => ({
  guestAddress,
  size,
  userAddress,
  mmapOffset: 0n,
});

describe('limits and transactions', () => {
  it('refuses a region past the advertised slots before mapping it (#20 D2)', async () => {
    const sock = await start({ maxMemSlots: 4 });
    const fe = VhostUserFrontend.connect(sock);
    await fe.handshake(featureMask(VirtioFeature.VIRTIO_F_VERSION_1));
    const slots = await fe.conn.call({ name: 'VHOST_USER_GET_MAX_MEM_SLOTS', payload: null });
    expect(slots.value).toBe(4n);
    const memfd = native.memfdCreate('slots', 1 << 20);
    for (let i = 0; i < 4; i++) {
      await fe.conn.request(
        { name: 'VHOST_USER_ADD_MEM_REG', payload: { region: region(BigInt(i) << 24n, 1n << 16n) } },
        { fds: [memfd] },
      );
    }
    const session = onlySession();
    const mapped = session.space.mappedRanges.length;
    const fds = openFdCount();
    await expect(
      fe.conn.request(
        { name: 'VHOST_USER_ADD_MEM_REG', payload: { region: region(9n << 24n, 1n << 16n) } },
        { fds: [memfd] },
      ),
    ).rejects.toMatchObject({ code: 'NACK' });
    expect(session.space.mappedRanges.length).toBe(mapped);
    expect(session.memory.regionCount).toBe(4);
    expect(openFdCount()).toBe(fds); // the refused region's fd was closed
    expect(errors.map((e) => (e as { code?: string }).code)).toContain('TOO_MANY_REGIONS');
    native.close(memfd);
    fe.close();
  });

  it('a refused table changes nothing, however often it is sent (#20 D10)', async () => {
    const sock = await start({ memSlots: false });
    const client = await VhostUserBlkClient.open(sock);
    await client.write(1536, new Uint8Array(512).fill(0x5a));
    const session = onlySession();
    const table = [...session.memory.list];
    const mapped = session.space.mappedRanges.length;
    const memfd = native.memfdCreate('bad', 1 << 20);
    const good = region(0x10_0000_0000n, 1n << 20n);
    const bad = region(2n ** 53n - 4096n, 8192n); // ends above 2^53
    for (let i = 0; i < 600; i++) {
      await expect(
        client.frontend.conn.request(
          { name: 'VHOST_USER_SET_MEM_TABLE', payload: { regions: [good, bad] } },
          { fds: [memfd, memfd] },
        ),
      ).rejects.toMatchObject({ code: 'NACK' });
    }
    expect(session.memory.list).toEqual(table);
    expect(session.space.mappedRanges.length).toBe(mapped);
    expect((await client.read(1536, 512))[0]).toBe(0x5a); // still served from the old table
    await client.frontend.setMemory(client.memory); // and a valid table still goes in
    expect((await client.read(1536, 512))[0]).toBe(0x5a);
    native.close(memfd);
    client.close();
  });

  it('a guest larger than half the session memory sends its table again (#20 D13)', async () => {
    const sock = await start({ memoryBytes: 64 << 20, memSlots: false });
    // About 43 MiB of guest RAM in a 64 MiB session memory: old and new tables cannot coexist.
    const client = await VhostUserBlkClient.open(sock, { maxTransfer: 1 << 20 });
    expect(client.memory.size).toBeGreaterThan(40 << 20);
    await client.write(2560, new Uint8Array(512).fill(0x66));
    for (let i = 0; i < 3; i++) {
      await client.frontend.setMemory(client.memory);
      expect((await client.read(2560, 512))[0]).toBe(0x66);
    }
    const session = onlySession();
    expect(session.memory.windowed).toBe(false); // mapped whole each time
    client.close();
    expect(errors).toEqual([]);
  });
});

/**
 * A driver written here from the virtio layout, over a sparse memfd the test maps only where it
 * writes: a region of 5 GiB at guest address 4 GiB, far larger than the back-end's 64 MiB.
 */
class SparseGuest {
  static readonly BASE = 4 * 2 ** 30;
  static readonly SIZE = 5 * 2 ** 30;
  static readonly USER = 0x7100_0000_0000;
  readonly fd = native.memfdCreate('sparse-guest', SparseGuest.SIZE);
  private readonly maps: ArrayBuffer[] = [];
  /** Ring, headers and status bytes live in the first 64 KiB. */
  readonly low = this.map(SparseGuest.BASE, 1 << 16);
  private avail = 0;
  private used = 0;
  static readonly DESC = SparseGuest.BASE;
  static readonly AVAIL = SparseGuest.BASE + 0x1000;
  static readonly USED = SparseGuest.BASE + 0x2000;
  static readonly HEADER = SparseGuest.BASE + 0x3000;
  static readonly STATUS = SparseGuest.BASE + 0x3100;
  static readonly RING_SIZE = 8;

  /** A view of guest bytes [gpa, gpa+length) (mapped from the memfd; page-aligned start). */
  map(gpa: number, length: number): Uint8Array {
    const offset = gpa - SparseGuest.BASE;
    const page = native.pageSize();
    const start = Math.floor(offset / page) * page;
    const buffer = native.mmap(this.fd, start, Math.ceil((offset - start + length) / page) * page, true);
    this.maps.push(buffer);
    return new Uint8Array(buffer, offset - start, length);
  }

  userAddrOf(gpa: number): number {
    return gpa - SparseGuest.BASE + SparseGuest.USER;
  }

  get region() {
    return {
      guestAddress: BigInt(SparseGuest.BASE),
      size: BigInt(SparseGuest.SIZE),
      userAddress: BigInt(SparseGuest.USER),
      mmapOffset: 0n,
    };
  }

  private at(gpa: number): DataView {
    return new DataView(this.low.buffer, this.low.byteOffset + (gpa - SparseGuest.BASE));
  }

  /** One virtio-blk request: header, data at `dataGpa`, status; resolves with the status byte. */
  async request(ring: StartedRing, type: number, sector: number, dataGpa: number, length: number): Promise<number> {
    const header = this.at(SparseGuest.HEADER);
    header.setUint32(0, type, true);
    header.setUint32(4, 0, true);
    header.setBigUint64(8, BigInt(sector), true);
    this.at(SparseGuest.STATUS).setUint8(0, 0xff);
    const descs: [number, number, number][] = [
      [SparseGuest.HEADER, 16, 1],
      [dataGpa, length, 1 | (type === VIRTIO_BLK.T_IN ? 2 : 0)],
      [SparseGuest.STATUS, 1, 2],
    ];
    descs.forEach(([addr, len, flags], i) => {
      const d = this.at(SparseGuest.DESC + 16 * i);
      d.setBigUint64(0, BigInt(addr), true);
      d.setUint32(8, len, true);
      d.setUint16(12, flags, true);
      d.setUint16(14, i + 1, true);
    });
    const avail = this.at(SparseGuest.AVAIL);
    avail.setUint16(4 + 2 * (this.avail % SparseGuest.RING_SIZE), 0, true);
    this.avail = (this.avail + 1) & 0xffff;
    Atomics.store(new Uint16Array(this.low.buffer, this.low.byteOffset + 0x1000, 2), 1, this.avail);
    ring.kick.signal();
    const used = new Uint16Array(this.low.buffer, this.low.byteOffset + 0x2000, 2);
    for (let i = 0; i < 2000 && Atomics.load(used, 1) === this.used; i++) await new Promise((r) => setTimeout(r, 1));
    expect(Atomics.load(used, 1)).toBe((this.used + 1) & 0xffff);
    this.used = (this.used + 1) & 0xffff;
    return this.at(SparseGuest.STATUS).getUint8(0);
  }

  close(): void {
    for (const m of this.maps) native.munmap(m);
    native.close(this.fd);
  }
}

describe('guests larger than the session memory (windows)', () => {
  it.each(['wasm', 'ts'] as const)(
    'serves buffers above 4 GiB and above 8 GiB of a 5 GiB region with a 64 MiB memory (%s core)',
    async (engine) => {
      const sock = await start({ memoryBytes: 64 << 20, engine });
      const guest = new SparseGuest();
      const fe = VhostUserFrontend.connect(sock);
      try {
        await fe.handshake(featureMask(VirtioFeature.VIRTIO_F_VERSION_1));
        await fe.setFeatures();
        await fe.conn.request(
          { name: 'VHOST_USER_ADD_MEM_REG', payload: { region: guest.region } },
          { fds: [guest.fd] },
        );
        const ring = await fe.startRing(guest, {
          index: 0,
          size: SparseGuest.RING_SIZE,
          descAddr: SparseGuest.DESC,
          availAddr: SparseGuest.AVAIL,
          usedAddr: SparseGuest.USED,
        });
        expect(onlySession().memory.windowed).toBe(true);

        // Write from above 8 GiB, read back to above 4 GiB: the image holds the data in between.
        const high = 8 * 2 ** 30 + 300 * 2 ** 20 + 512;
        const source = guest.map(high, 8192);
        source.forEach((_, i) => (source[i] = (i * 7 + 1) & 0xff));
        expect(await guest.request(ring, VIRTIO_BLK.T_OUT, 16, high, 8192)).toBe(VIRTIO_BLK.S_OK);
        const onDisk = Buffer.alloc(8192);
        const fd = openSync(image, 'r');
        readSync(fd, onDisk, 0, 8192, 16 * 512);
        closeSync(fd);
        expect(onDisk.equals(Buffer.from(source))).toBe(true);

        const low = 4 * 2 ** 30 + 900 * 2 ** 20 + 64;
        expect(await guest.request(ring, VIRTIO_BLK.T_IN, 16, low, 8192)).toBe(VIRTIO_BLK.S_OK);
        expect(Buffer.from(guest.map(low, 8192)).equals(Buffer.from(source))).toBe(true);

        // Scattered over the whole region: windows are recycled, every transfer is right.
        for (let i = 0; i < 48; i++) {
          const gpa = SparseGuest.BASE + (1 << 20) + ((i * 104_729 * 4096 + 1) % (SparseGuest.SIZE - (2 << 20)));
          expect(await guest.request(ring, VIRTIO_BLK.T_IN, 16, gpa, 4096)).toBe(VIRTIO_BLK.S_OK);
          expect(Buffer.from(guest.map(gpa, 4096)).equals(Buffer.from(source.subarray(0, 4096)))).toBe(true);
        }
        expect(onlySession().space.mappedRanges.length).toBeLessThan(32);
        expect(errors).toEqual([]);
      } finally {
        fe.close();
        guest.close();
      }
    },
  );
});

describe('socket path', () => {
  it('replaces only a stale socket; a file or a live back-end is left alone', async () => {
    const sock = await start();
    const second = new VhostUserBackend(sock, () => new BlkBackendDevice(image));
    await expect(second.listen()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    const file = join(dir, 'not-a-socket');
    closeSync(openSync(file, 'w'));
    await expect(new VhostUserBackend(file, () => new BlkBackendDevice(image)).listen()).rejects.toMatchObject({
      code: 'EEXIST',
    });
    const controller = new AbortController();
    const aborted = new VhostUserBackend(join(dir, 'abort.sock'), () => new BlkBackendDevice(image), {
      signal: controller.signal,
    });
    await aborted.listen();
    expect(aborted.listening).toBe(true);
    controller.abort();
    expect(aborted.listening).toBe(false);
    // A socket left behind by a process that is gone is replaced.
    const stale = join(dir, 'stale.sock');
    native.close(native.listen(stale, 1));
    const revived = await VhostUserBackend.listen(stale, () => new BlkBackendDevice(image));
    expect(revived.listening).toBe(true);
    await revived.close();
  });
});
