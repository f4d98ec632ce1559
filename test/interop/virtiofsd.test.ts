/** TS front-end <-> virtiofsd (C): FUSE_INIT, LOOKUP, OPEN, READ of a file over the request queue. */
import { writeFileSync, mkdirSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtioFeature, featureMask } from '@vhost-user/codec';
import { DriverQueue, FrontendGuestMemory } from '@vhost-user/transport';
import { APT_QEMU, Peer, TempDir, connectFrontend, missingPeer } from './peers.js';

const VIRTIOFSD = '/usr/lib/qemu/virtiofsd';
const skip = missingPeer([VIRTIOFSD], APT_QEMU);
const CONTENT = 'hello from virtiofsd through a TypeScript front-end\n';

// FUSE wire facts (linux/fuse.h); they belong to FUSE, not to vhost-user.
const FUSE = {
  LOOKUP: 1,
  OPEN: 14,
  READ: 15,
  INIT: 26,
  IN_HEADER: 40,
  OUT_HEADER: 16,
  ROOT: 1n,
  MAJOR: 7,
  MINOR: 31,
} as const;

/** A FUSE session over virtio-fs: each request is one chain, header + args in, header + reply out. */
class FuseOverVirtio {
  private unique = 1n;
  constructor(
    private readonly memory: FrontendGuestMemory,
    private readonly queue: DriverQueue,
    private readonly inBuf: number,
    private readonly outBuf: number,
  ) {}

  async call(
    opcode: number,
    nodeid: bigint,
    args: Uint8Array,
    replyBytes: number,
  ): Promise<{ error: number; body: Uint8Array }> {
    const length = FUSE.IN_HEADER + args.length;
    const request = this.memory.view(this.inBuf, length);
    const h = new DataView(request.buffer, request.byteOffset, length);
    const unique = this.unique++;
    h.setUint32(0, length, true);
    h.setUint32(4, opcode, true);
    h.setBigUint64(8, unique, true);
    h.setBigUint64(16, nodeid, true);
    h.setUint32(24, process.getuid?.() ?? 0, true);
    h.setUint32(28, process.getgid?.() ?? 0, true);
    h.setUint32(32, process.pid, true);
    h.setUint32(36, 0, true);
    request.set(args, FUSE.IN_HEADER);
    const outLength = FUSE.OUT_HEADER + replyBytes;
    const written = await this.queue.submit([
      { guestAddr: this.inBuf, length, writable: false },
      { guestAddr: this.outBuf, length: outLength, writable: true },
    ]);
    const reply = this.memory.view(this.outBuf, outLength).slice();
    const o = new DataView(reply.buffer);
    expect(o.getBigUint64(8, true)).toBe(unique);
    const replyLength = o.getUint32(0, true);
    expect(written).toBe(replyLength);
    return { error: o.getInt32(4, true), body: reply.subarray(FUSE.OUT_HEADER, replyLength) };
  }
}

describe.skipIf(skip !== undefined)('TS front-end <-> virtiofsd', () => {
  let dir: TempDir;
  let daemon: Peer;
  let sock: string;

  beforeEach(async () => {
    dir = new TempDir();
    mkdirSync(dir.file('share'));
    writeFileSync(dir.file('share/hello.txt'), CONTENT);
    sock = dir.file('fs.sock');
    daemon = new Peer(VIRTIOFSD, [
      `--socket-path=${sock}`,
      '-o',
      `source=${dir.file('share')}`,
      '-o',
      'sandbox=chroot',
      '-o',
      'cache=none',
    ]);
    await daemon.waitForPath(sock);
  });

  afterEach(async () => {
    await daemon.stop();
    dir.remove();
  });

  it('FUSE_INIT, LOOKUP, OPEN and READ a file', async () => {
    const fe = await connectFrontend(sock);
    const negotiated = await fe.handshake(featureMask(VirtioFeature.VIRTIO_F_VERSION_1));
    const queues = await fe.queueCount();
    expect(queues).toBeGreaterThanOrEqual(2); // hiprio + requests
    const memory = new FrontendGuestMemory({ size: 1 << 20 });
    await fe.setFeatures(negotiated.features);
    await fe.setMemory(memory);
    // Ring 0 (hiprio) is set up too, as a real driver does; requests go on ring 1.
    const hiprio = await DriverQueue.start(fe, memory, 0, 64);
    const requests = await DriverQueue.start(fe, memory, 1, 64);
    await fe.driverReady();
    const fuse = new FuseOverVirtio(memory, requests, memory.allocate(4096, 4096), memory.allocate(8192, 4096));

    const initIn = new Uint8Array(64);
    const iv = new DataView(initIn.buffer);
    iv.setUint32(0, FUSE.MAJOR, true);
    iv.setUint32(4, FUSE.MINOR, true);
    iv.setUint32(8, 0, true);
    const init = await fuse.call(FUSE.INIT, 0n, initIn, 64);
    expect(init.error).toBe(0);
    expect(new DataView(init.body.buffer, init.body.byteOffset).getUint32(0, true)).toBe(FUSE.MAJOR);

    const lookup = await fuse.call(FUSE.LOOKUP, FUSE.ROOT, new TextEncoder().encode('hello.txt\0'), 128);
    expect(lookup.error).toBe(0);
    const lv = new DataView(lookup.body.buffer, lookup.body.byteOffset, lookup.body.length);
    const nodeid = lv.getBigUint64(0, true);
    const size = lv.getBigUint64(40 + 8, true); // fuse_attr.size after ino
    expect(nodeid).not.toBe(0n);
    expect(size).toBe(BigInt(CONTENT.length));

    const open = await fuse.call(FUSE.OPEN, nodeid, new Uint8Array(8), 16); // flags O_RDONLY
    expect(open.error).toBe(0);
    const fh = new DataView(open.body.buffer, open.body.byteOffset).getBigUint64(0, true);

    const readIn = new Uint8Array(40);
    const rv = new DataView(readIn.buffer);
    rv.setBigUint64(0, fh, true);
    rv.setBigUint64(8, 0n, true);
    rv.setUint32(16, 4096, true);
    const read = await fuse.call(FUSE.READ, nodeid, readIn, 4096);
    expect(read.error).toBe(0);
    expect(new TextDecoder().decode(read.body)).toBe(CONTENT);

    hiprio.close();
    requests.close();
    fe.close();
    memory.close();
  });
});
