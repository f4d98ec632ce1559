import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HEADER, ProtocolFeature, VirtioFeature, decode, encode, featureMask } from '@vhost-user/codec';
import {
  BlkBackendDevice,
  EventFd,
  FrontendGuestMemory,
  UnixSocket,
  VhostUserBackend,
  VhostUserBlkClient,
  VhostUserFrontend,
  native,
  type BackendSession,
} from '@vhost-user/transport';
import { openFdCount, openFds } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'vu-backend-'));
const image = join(dir, 'disk.img');
const IMAGE_BYTES = 4 << 20;
let sock = '';
let backend: VhostUserBackend;
const errors: Error[] = [];
let counter = 0;
let sessionsEnded = 0;

function startBackend(options: { memSlots?: boolean; engine?: 'wasm' | 'ts' } = {}): void {
  sock = join(dir, `b${counter++}.sock`);
  sessionsEnded = 0;
  backend = new VhostUserBackend(sock, () => new BlkBackendDevice(image, { id: 'ts-disk-1' }), {
    memoryBytes: 64 << 20,
    onError: (e) => errors.push(e),
    onSessionEnd: () => sessionsEnded++,
    ...options,
  });
  void backend.listen();
}

/** Resolves once `count` sessions have ended (accepted and fully released). */
async function ended(count: number): Promise<void> {
  for (let i = 0; i < 400 && sessionsEnded < count; i++) await new Promise((r) => setTimeout(r, 5));
  expect(sessionsEnded).toBe(count);
}

/** Resolves when the back-end has no session left (every fd released). */
async function idle(): Promise<void> {
  for (let i = 0; i < 200 && backend.sessions.size > 0; i++) await new Promise((r) => setTimeout(r, 5));
  expect(backend.sessions.size).toBe(0);
}

beforeAll(() => {
  const fd = openSync(image, 'w');
  ftruncateSync(fd, IMAGE_BYTES);
  closeSync(fd);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  backend.close();
  errors.length = 0;
});

describe('vhost-user-blk back-end with the TS front-end client', () => {
  it.each(['wasm', 'ts'] as const)(
    'serves reads, writes, flush, get-id and config; the data lands in the image (%s ring core)',
    async (engine) => {
      startBackend({ engine });
      const client = await VhostUserBlkClient.open(sock, { engine });
      expect(client.sizeBytes).toBe(IMAGE_BYTES);
      expect(client.frontend.hasProtocolFeature(ProtocolFeature.VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS)).toBe(true);
      const data = new Uint8Array(16 * 512).map((_, i) => (i * 13) & 0xff);
      await client.write(32768, data);
      expect(Buffer.from(await client.read(32768, 8192)).equals(Buffer.from(data))).toBe(true);
      await client.flush();
      expect(await client.getId()).toBe('ts-disk-1');
      await expect(client.read(IMAGE_BYTES, 512)).rejects.toMatchObject({ status: 1 }); // past the end: IOERR
      const inFlight = await Promise.all(Array.from({ length: 64 }, (_, i) => client.read((64 + (i % 16)) * 512, 512)));
      inFlight.forEach((r, i) => expect(r[0]).toBe(data[(i % 16) * 512]));
      expect(await client.stop()).toEqual([1 + 1 + 1 + 1 + 1 + 64]);
      client.close();
      expect(
        readFileSync(image)
          .subarray(64 * 512, 80 * 512)
          .equals(Buffer.from(data)),
      ).toBe(true);
      await idle();
      expect(errors).toEqual([]);
    },
  );

  it('keeps serving across a live SET_MEM_TABLE while the ring runs', async () => {
    startBackend({ memSlots: false });
    const client = await VhostUserBlkClient.open(sock);
    expect(client.frontend.hasProtocolFeature(ProtocolFeature.VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS)).toBe(false);
    const data = new Uint8Array(512).fill(0x3c);
    await client.write(4608, data);
    const session = [...backend.sessions][0] as BackendSession;
    const before = session.regions.list[0]?.memOffset;
    await client.frontend.setMemory(client.memory); // the same RAM again: remapped elsewhere
    expect(session.regions.list[0]?.memOffset).not.toBe(before);
    expect((await client.read(4608, 512))[0]).toBe(0x3c);
    client.close();
    await idle();
  });

  it('carries requests on the back-end channel, with need_reply acked by the front-end', async () => {
    startBackend();
    const seen: string[] = [];
    const fe = VhostUserFrontend.connect(sock, {
      onBackendRequest: (req) => void seen.push(`${req.name}:${req.needReply}`),
    });
    await fe.handshake(featureMask(VirtioFeature.VIRTIO_F_VERSION_1));
    const session = [...backend.sessions][0] as BackendSession;
    await session.backendRequest({ name: 'VHOST_USER_BACKEND_CONFIG_CHANGE_MSG', payload: null });
    expect(seen).toEqual(['VHOST_USER_BACKEND_CONFIG_CHANGE_MSG:true']);
    fe.close();
    await idle();
  });
});

describe('the back-end state machine', () => {
  it('gates requests by negotiated features and refuses bad rings without dropping the session', async () => {
    startBackend();
    const fe = VhostUserFrontend.connect(sock);
    // GET_CONFIG before CONFIG is negotiated: the request is refused (empty reply).
    fe.conn.protocolFeatures = featureMask(ProtocolFeature.VHOST_USER_PROTOCOL_F_CONFIG);
    await expect(fe.getConfig(0, 8)).rejects.toMatchObject({ code: 'EMPTY_REPLY' });
    fe.conn.protocolFeatures = 0n;
    await fe.handshake(featureMask(VirtioFeature.VIRTIO_F_VERSION_1));
    await expect(
      fe.conn.request({ name: 'VHOST_USER_SET_VRING_NUM', payload: { index: 5, num: 64 } }),
    ).rejects.toMatchObject({ code: 'NACK' });
    await expect(
      fe.conn.request({ name: 'VHOST_USER_SET_VRING_NUM', payload: { index: 0, num: 100 } }),
    ).rejects.toMatchObject({ code: 'NACK' });
    // A ring kicked before it has addresses is refused.
    const kick = new EventFd();
    await expect(
      fe.conn.request({ name: 'VHOST_USER_SET_VRING_KICK', payload: { value: 0n } }, { fds: [kick.fd] }),
    ).rejects.toMatchObject({ code: 'NACK' });
    kick.close();
    expect((await fe.getConfig(0, 8)).length).toBe(8);
    fe.close();
    await idle();
  });

  it('answers need_reply on every request, before and after REPLY_ACK is negotiated', async () => {
    startBackend();
    const socket = UnixSocket.connect(sock);
    const replies: Uint8Array[] = [];
    let buffered = new Uint8Array(0);
    socket.start({
      onData: (chunk) => {
        buffered = new Uint8Array([...buffered, ...chunk]);
        while (buffered.length >= HEADER.size) {
          const size = HEADER.size + new DataView(buffered.buffer).getUint32(8, true);
          if (buffered.length < size) break;
          replies.push(buffered.slice(0, size));
          buffered = buffered.slice(size);
        }
      },
      onClose: () => undefined,
    });
    const ask = (message: Parameters<typeof encode<'frontend'>>[1]) =>
      socket.send(encode('frontend', { ...message, needReply: true } as typeof message), []);
    // Before any negotiation; SET_PROTOCOL_FEATURES even selects REPLY_ACK itself.
    ask({ name: 'VHOST_USER_SET_OWNER', payload: null });
    ask({
      name: 'VHOST_USER_SET_PROTOCOL_FEATURES',
      payload: { value: featureMask(ProtocolFeature.VHOST_USER_PROTOCOL_F_REPLY_ACK) },
    });
    ask({ name: 'VHOST_USER_SET_VRING_NUM', payload: { index: 0, num: 64 } });
    ask({ name: 'VHOST_USER_SET_VRING_NUM', payload: { index: 7, num: 64 } }); // no such ring: a failure ack
    for (let i = 0; i < 200 && replies.length < 4; i++) await new Promise((r) => setTimeout(r, 5));
    const acks = replies.map((r) => decode('frontend', r));
    expect(acks.map((a) => [a.name, (a.payload as { value: bigint }).value])).toEqual([
      ['VHOST_USER_SET_OWNER', 0n],
      ['VHOST_USER_SET_PROTOCOL_FEATURES', 0n],
      ['VHOST_USER_SET_VRING_NUM', 0n],
      ['VHOST_USER_SET_VRING_NUM', 1n],
    ]);
    socket.close();
    await idle();
    errors.length = 0; // the refused ring was reported
  });

  it('refuses a region that claims more memory than its fd holds, and lives on', async () => {
    startBackend();
    const fe = VhostUserFrontend.connect(sock);
    await fe.handshake(featureMask(VirtioFeature.VIRTIO_F_VERSION_1));
    const memfd = native.memfdCreate('liar', 1 << 20);
    const region = { guestAddress: 0n, size: 32n << 20n, userAddress: 0x1000n, mmapOffset: 0n };
    await expect(
      fe.conn.request({ name: 'VHOST_USER_ADD_MEM_REG', payload: { region } }, { fds: [memfd] }),
    ).rejects.toMatchObject({ code: 'NACK' });
    native.close(memfd);
    const memory = new FrontendGuestMemory({ size: 1 << 20 });
    await fe.setMemory(memory); // a truthful one still works
    fe.close();
    memory.close();
    await idle();
  });
});

describe('bad peers', () => {
  /** Sends raw bytes (and fds) on a fresh connection, then closes it. */
  async function rawPeer(chunks: { bytes: Uint8Array; fds?: number[] }[], keepOpenMs = 30): Promise<void> {
    const socket = UnixSocket.connect(sock);
    socket.start({ onData: () => undefined, onClose: () => undefined });
    for (const c of chunks) socket.send(c.bytes, c.fds ?? []);
    await new Promise((r) => setTimeout(r, keepOpenMs));
    socket.close();
  }

  it('survives garbage, truncation, unknown ids, fd floods and hang-ups, leaks no fd, and serves the next client', async () => {
    startBackend();
    const baseline = openFdCount();
    const before = openFds();
    const header = (id: number, flags: number, size: number) => {
      const b = new Uint8Array(HEADER.size);
      const v = new DataView(b.buffer);
      v.setUint32(0, id, true);
      v.setUint32(4, flags, true);
      v.setUint32(8, size, true);
      return b;
    };
    const flood = Array.from({ length: 20 }, () => native.eventfd(0));
    await rawPeer([{ bytes: new Uint8Array(200).map((_, i) => (i * 97) & 0xff) }]);
    await rawPeer([{ bytes: header(1, 1, 0).subarray(0, 7) }]); // header cut short
    await rawPeer([{ bytes: new Uint8Array([...header(8, 1, 8), 1, 2]) }]); // payload cut short
    await rawPeer([
      { bytes: header(999, 1, 0) },
      { bytes: encode('frontend', { name: 'VHOST_USER_GET_FEATURES', payload: null }) },
    ]);
    await rawPeer([{ bytes: encode('frontend', { name: 'VHOST_USER_GET_FEATURES', payload: null }), fds: flood }]);
    await rawPeer([{ bytes: header(5, 1, 0xfffffff0) }, { bytes: new Uint8Array(1000) }]); // absurd size
    await rawPeer(
      [
        {
          bytes: encode('frontend', { name: 'VHOST_USER_SET_VRING_CALL', payload: { value: 0n } }),
          fds: flood.slice(0, 1),
        },
      ],
      0,
    ); // hang up at once
    closeFds(flood);
    await ended(7); // every bad connection was accepted, then dropped with all it held
    const leaked = [...openFds()].filter(([fd, target]) => before.get(fd) !== target);
    expect(leaked).toEqual([]);
    expect(openFdCount()).toBe(baseline);

    const client = await VhostUserBlkClient.open(sock);
    expect((await client.read(0, 512)).length).toBe(512);
    client.close();
    await idle();
    expect(errors.length).toBeGreaterThan(0);
  });
});

function closeFds(fds: number[]): void {
  for (const fd of fds) native.close(fd);
}
