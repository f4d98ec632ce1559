/**
 * No lost kicks: a back-end that handles every message late and drains kicks that arrive while
 * its ring is disabled (as vhost-user-backend up to 0.21 does when it offers only MQ). Without
 * REPLY_ACK the front-end must not kick before SET_VRING_ENABLE took effect.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ProtocolFeature, VirtioFeature, featureMask, type DecodedRequest } from '@vhost-user/codec';
import {
  Connection,
  EventFd,
  FrontendGuestMemory,
  ReceivedFds,
  UnixListener,
  VhostUserFrontend,
  type UnixSocket,
} from '@vhost-user/transport';

const dir = mkdtempSync(join(tmpdir(), 'vu-late-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Kicks seen per session: on an enabled ring (served) or drained while disabled (lost). */
interface KickCount {
  served: number;
  lost: number;
}

/** One session of the late back-end. */
function lateSession(socket: UnixSocket, delayMs: number, count: KickCount): void {
  let kick: EventFd | undefined;
  let enabled = false;
  const handle = (req: DecodedRequest<'frontend'>, fds: ReceivedFds): unknown => {
    switch (req.name) {
      case 'VHOST_USER_GET_FEATURES':
        return {
          value: featureMask(VirtioFeature.VIRTIO_F_VERSION_1, VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES),
        };
      case 'VHOST_USER_GET_PROTOCOL_FEATURES':
        return { value: featureMask(ProtocolFeature.VHOST_USER_PROTOCOL_F_MQ) };
      case 'VHOST_USER_GET_QUEUE_NUM':
        return { value: 1n };
      case 'VHOST_USER_SET_VRING_KICK':
        kick = new EventFd(fds.take());
        kick.watch(() => (enabled ? count.served++ : count.lost++));
        return undefined;
      case 'VHOST_USER_SET_VRING_ENABLE':
        enabled = req.payload.num !== 0;
        return undefined;
      default:
        return undefined;
    }
  };
  new Connection(socket, {
    channel: 'frontend',
    onRequest: async (req, fds) => {
      await new Promise((r) => setTimeout(r, delayMs));
      return handle(req, fds);
    },
    onClose: () => kick?.close(),
  });
}

const RING = { index: 0, size: 8, descAddr: 0x1000, availAddr: 0x2000, usedAddr: 0x3000 };

/** What startRing sent before the fix: ENABLE, then nothing that waits for it. */
async function startWithoutBarrier(fe: VhostUserFrontend, memory: FrontendGuestMemory): Promise<EventFd> {
  const { index } = RING;
  await fe.conn.request({ name: 'VHOST_USER_SET_VRING_NUM', payload: { index, num: RING.size } });
  await fe.conn.request({ name: 'VHOST_USER_SET_VRING_BASE', payload: { index, num: 0 } });
  await fe.conn.request({
    name: 'VHOST_USER_SET_VRING_ADDR',
    payload: {
      index,
      flags: 0,
      descriptor: BigInt(memory.userAddrOf(RING.descAddr)),
      used: BigInt(memory.userAddrOf(RING.usedAddr)),
      available: BigInt(memory.userAddrOf(RING.availAddr)),
      log: 0n,
    },
  });
  const kick = new EventFd();
  const call = new EventFd();
  await fe.conn.request({ name: 'VHOST_USER_SET_VRING_KICK', payload: { value: 0n } }, { fds: [kick.fd] });
  await fe.conn.request({ name: 'VHOST_USER_SET_VRING_CALL', payload: { value: 0n } }, { fds: [call.fd] });
  await fe.conn.request({ name: 'VHOST_USER_SET_VRING_ENABLE', payload: { index, num: 1 } });
  call.close();
  return kick;
}

/** Runs `sessions` sessions that each kick once right after the ring started; counts the kicks. */
async function run(sessions: number, start: 'startRing' | 'no-barrier'): Promise<KickCount> {
  const count: KickCount = { served: 0, lost: 0 };
  const path = join(dir, `${start}.sock`);
  const listener = new UnixListener(path, (socket) => lateSession(socket, 1, count));
  const memory = new FrontendGuestMemory({ size: 1 << 16 });
  try {
    for (let i = 0; i < sessions; i++) {
      const fe = VhostUserFrontend.connect(path);
      await fe.handshake(featureMask(VirtioFeature.VIRTIO_F_VERSION_1));
      expect(fe.conn.replyAck).toBe(false);
      await fe.setFeatures();
      let kick: EventFd;
      let own: EventFd | undefined;
      if (start === 'startRing') {
        kick = (await fe.startRing(memory, RING)).kick;
      } else {
        kick = own = await startWithoutBarrier(fe, memory);
      }
      kick.signal();
      const seen = count.served + count.lost;
      for (let t = 0; t < 500 && count.served + count.lost === seen; t++) await new Promise((r) => setTimeout(r, 1));
      expect(count.served + count.lost).toBe(seen + 1);
      own?.close();
      fe.close();
    }
  } finally {
    listener.close();
    memory.close();
  }
  return count;
}

describe('kicks after SET_VRING_ENABLE without REPLY_ACK', () => {
  it('the harness loses kicks when the front-end does not wait for ENABLE (control)', async () => {
    const count = await run(20, 'no-barrier');
    expect(count.lost).toBeGreaterThan(0);
  });

  it('startRing waits for ENABLE to take effect: no kick lost over 1,000 sessions', { timeout: 180_000 }, async () => {
    const count = await run(1000, 'startRing');
    expect(count).toEqual({ served: 1000, lost: 0 });
  });
});
