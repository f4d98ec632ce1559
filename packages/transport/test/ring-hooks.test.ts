/**
 * The ring-level migration hooks of SessionRing with a device that answers through the core's
 * fused `serve`: while logging is on, the pages the device wrote and the used ring are marked
 * (the fused pass neither logs nor records, so the ring goes chain by chain), and SET_VRING_ADDR
 * re-sent for a running ring with the same addresses (QEMU turns used-ring logging on so) keeps
 * its position.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ProtocolFeature,
  SPLIT_RING_AREAS,
  VHOST_LOG_PAGE,
  VirtioFeature,
  VringAddrFlags,
  featureMask,
} from '@vhost-user/codec';
import {
  DriverQueue,
  FRONTEND_PROTOCOL_FEATURES,
  FrontendGuestMemory,
  VhostUserBackend,
  VhostUserFrontend,
  closeFds,
  native,
  type BackendSession,
  type VhostUserDevice,
} from '@vhost-user/transport';

const dir = mkdtempSync(join(tmpdir(), 'vu-ring-hooks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Fills each chain's first writable buffer with 0xab, through the fused pass. */
function fillingDevice(): VhostUserDevice {
  return {
    features: featureMask(VirtioFeature.VIRTIO_F_VERSION_1),
    queueCount: 1,
    process(queue) {
      queue.serve({
        serve: (_id, _readAt, _readLength, writeAt, writeLength) => {
          queue.bytes.fill(0xab, writeAt, writeAt + writeLength);
          return writeLength;
        },
      });
      queue.notify();
    },
  };
}

const MEMORY = 1 << 20;
const LOG_BYTES = MEMORY / VHOST_LOG_PAGE / 8;
const isMarked = (bits: Uint8Array, gpa: number) => {
  const page = Math.floor(gpa / VHOST_LOG_PAGE);
  return ((bits[page >>> 3] ?? 0) & (1 << (page & 7))) !== 0;
};

describe('SessionRing hooks with the fused serve', () => {
  it('logs what the device wrote and the used ring; SET_VRING_ADDR on a running ring keeps its position', async () => {
    const sock = join(dir, 'b.sock');
    const errors: Error[] = [];
    let session: BackendSession | undefined;
    let addresses: { descriptor: bigint; available: bigint; used: bigint } | undefined;
    const backend = await VhostUserBackend.listen(sock, fillingDevice, {
      memoryBytes: 4 << 20,
      onError: (e) => errors.push(e),
      trace: (req) => {
        if (req.name === 'VHOST_USER_SET_VRING_ADDR') addresses ??= req.payload;
      },
    });
    const memory = new FrontendGuestMemory({ size: MEMORY });
    const log = native.memfdCreate('log', LOG_BYTES);
    const bits = new Uint8Array(native.mmap(log, 0, LOG_BYTES, true));
    const fe = VhostUserFrontend.connect(sock);
    try {
      await fe.handshake(
        featureMask(VirtioFeature.VIRTIO_F_VERSION_1, VirtioFeature.VHOST_F_LOG_ALL),
        FRONTEND_PROTOCOL_FEATURES | featureMask(ProtocolFeature.VHOST_USER_PROTOCOL_F_LOG_SHMFD),
      );
      await fe.setFeatures(featureMask(VirtioFeature.VIRTIO_F_VERSION_1, VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES));
      await fe.setMemory(memory);
      await fe.conn.call(
        { name: 'VHOST_USER_SET_LOG_BASE', payload: { mmapSize: BigInt(LOG_BYTES), mmapOffset: 0n } },
        { fds: [log] },
      );
      const queue = await DriverQueue.start(fe, memory, 0, 16);
      session = [...backend.sessions][0];

      // Logging off: served by the fused pass, nothing marked.
      const quiet = memory.allocate(VHOST_LOG_PAGE, VHOST_LOG_PAGE);
      expect(await queue.submit([{ guestAddr: quiet, length: 64, writable: true }])).toBe(64);
      expect(bits.some((b) => b !== 0)).toBe(false);

      // Logging on (LOG_ALL acked, the used ring logged): the same ring addresses again.
      await fe.setFeatures(
        featureMask(
          VirtioFeature.VIRTIO_F_VERSION_1,
          VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES,
          VirtioFeature.VHOST_F_LOG_ALL,
        ),
      );
      const { descriptor, available, used } = addresses as NonNullable<typeof addresses>;
      const usedAddr = Number(used) - memory.userAddrOf(0); // the used ring's guest-physical address
      await fe.conn.request({
        name: 'VHOST_USER_SET_VRING_ADDR',
        payload: {
          index: 0,
          flags: VringAddrFlags.VHOST_VRING_F_LOG,
          descriptor,
          available,
          used,
          log: BigInt(usedAddr),
        },
      });
      expect(session?.ringState(0)).toMatchObject({ started: true, position: 1 });
      const loud = memory.allocate(3 * VHOST_LOG_PAGE, VHOST_LOG_PAGE);
      // Two pages written (the second only in part), the third not.
      const written = VHOST_LOG_PAGE + 100;
      expect(await queue.submit([{ guestAddr: loud, length: written, writable: true }])).toBe(written);
      expect(memory.guest.u8[memory.offsetOf(loud + written - 1)]).toBe(0xab);
      expect(isMarked(bits, loud)).toBe(true);
      expect(isMarked(bits, loud + VHOST_LOG_PAGE)).toBe(true);
      expect(isMarked(bits, loud + 2 * VHOST_LOG_PAGE)).toBe(false);
      expect(isMarked(bits, quiet)).toBe(false);
      expect(isMarked(bits, usedAddr)).toBe(true);
      expect(isMarked(bits, usedAddr + SPLIT_RING_AREAS.usedRing.size(16) - 1)).toBe(true);
      expect(await fe.stopRing(0)).toBe(2);
      queue.close();
      expect(errors).toEqual([]);
    } finally {
      fe.close();
      native.munmap(bits.buffer as ArrayBuffer);
      closeFds([log]);
      memory.close();
      await backend.close();
    }
  });
});
