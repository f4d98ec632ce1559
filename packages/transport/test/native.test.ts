import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventFd, MemorySpace, UnixListener, UnixSocket, closeFds, native } from '@vhost-user/transport';
import { openFdCount, wasmProbe } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'vu-native-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `code` in a separate Node process that gets `fd` as its fd 3; resolves with its stdout. */
function inChild(fd: number, code: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit', fd] });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (status) => (status === 0 ? resolve(out) : reject(new Error(`child exited ${status}`))));
  });
}

describe('native errors carry errno names', () => {
  it('connect to a missing path is ENOENT, to a dead socket ECONNREFUSED', () => {
    expect(() => native.connect(join(dir, 'missing.sock'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    const path = join(dir, 'dead.sock');
    const fd = native.listen(path, 1);
    native.close(fd);
    expect(() => native.connect(path)).toThrow(expect.objectContaining({ code: 'ECONNREFUSED' }));
  });

  it('a bad fd is EBADF, and nothing is ready on an idle socket', () => {
    expect(() => native.fstatSize(1 << 30)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    const [a, b] = native.socketpair();
    expect(native.recvmsg(a, new Uint8Array(16))).toBeNull();
    closeFds([a, b]);
  });
});

describe('fd passing (SCM_RIGHTS)', () => {
  it('a memfd sent over a socket pair is the same file on the other side', () => {
    const [a, b] = native.socketpair();
    const memfd = native.memfdCreate('pass', 4096);
    const mine = new Uint8Array(native.mmap(memfd, 0, 4096, true));
    expect(native.sendmsg(a, new Uint8Array([1, 2, 3]), [memfd])).toBe(3);
    const got = native.recvmsg(b, new Uint8Array(16));
    expect(got?.bytes).toBe(3);
    expect(got?.fds).toHaveLength(1);
    const theirs = got?.fds[0] as number;
    expect(theirs).not.toBe(memfd);
    expect(native.fstatSize(theirs)).toBe(4096);
    const buffer = native.mmap(theirs, 0, 4096, true);
    new Uint8Array(buffer)[100] = 0xab;
    expect(mine[100]).toBe(0xab);
    native.munmap(buffer);
    expect(buffer.byteLength).toBe(0); // detached: no view can touch unmapped pages
    native.munmap(mine.buffer as ArrayBuffer);
    closeFds([a, b, memfd, theirs]);
  });

  it('sockets from listen/accept carry bytes and fds without blocking the loop', async () => {
    const before = openFdCount();
    const path = join(dir, 'l.sock');
    const received = new Promise<{ data: number[]; fds: number[] }>((resolve) => {
      const listener = new UnixListener(path, (socket) => {
        socket.start({
          onData: (chunk, fds) => {
            resolve({ data: [...chunk], fds });
            socket.close();
            listener.close();
          },
          onClose: () => undefined,
        });
      });
    });
    const client = UnixSocket.connect(path);
    const closed = new Promise<void>((resolve) => client.start({ onData: () => undefined, onClose: () => resolve() }));
    const ev = new EventFd();
    client.send(new Uint8Array([7, 8, 9]), [ev.fd]);
    const { data, fds } = await received;
    expect(data).toEqual([7, 8, 9]);
    expect(fds).toHaveLength(1);
    // The received eventfd is the same counter.
    native.eventfdWrite(fds[0] as number, 5);
    expect(ev.drain()).toBe(5n);
    await closed; // the server closed its end: the client sees the end of the stream
    closeFds(fds);
    ev.close();
    expect(openFdCount()).toBe(before);
  });

  it('large writes that fill the socket buffer are queued and arrive whole', async () => {
    const [a, b] = native.socketpair();
    const sender = new UnixSocket(a);
    const receiver = new UnixSocket(b);
    const total = 4 * 1024 * 1024;
    const payload = new Uint8Array(total).map((_, i) => i * 7);
    const done = new Promise<Uint8Array>((resolve) => {
      const got = new Uint8Array(total);
      let fill = 0;
      receiver.start({
        onData: (chunk) => {
          got.set(chunk, fill);
          fill += chunk.length;
          if (fill === total) resolve(got);
        },
        onClose: () => undefined,
      });
    });
    sender.start({ onData: () => undefined, onClose: () => undefined });
    sender.send(payload);
    expect(Buffer.from(await done).equals(Buffer.from(payload))).toBe(true);
    sender.close();
    receiver.close();
  });
});

describe('eventfd', () => {
  it('counts signals and reports an empty counter as null', async () => {
    const ev = new EventFd();
    expect(native.eventfdRead(ev.fd)).toBeNull();
    const seen = new Promise<bigint>((resolve) => ev.watch(resolve));
    ev.signal();
    ev.signal();
    expect(await seen).toBe(2n);
    ev.close();
  });
});

describe('memfd regions mapped into a WebAssembly.Memory', () => {
  const space = new MemorySpace({ bytes: 16 << 20, reservedBytes: 64 << 10 });

  it('a write by another process is seen by WebAssembly loads, and the reverse', async () => {
    const probe = await wasmProbe(space.memory);
    const memfd = native.memfdCreate('guest', 1 << 20);
    const range = space.mapFile(memfd, 0, 1 << 20);
    expect(range.memOffset % space.pageSize).toBe(0);
    // Peer writes 0x11223344 at file offset 0x2000 (little-endian).
    await inChild(memfd, `require('fs').writeSync(3, Buffer.from([0x44,0x33,0x22,0x11]), 0, 4, 0x2000)`);
    expect(probe.load32(range.memOffset + 0x2000)).toBe(0x11223344);
    // The core writes; the peer reads the file.
    probe.store32(range.memOffset + 0x3000, 0x55667788);
    const out = await inChild(
      memfd,
      `const b=Buffer.alloc(4); require('fs').readSync(3,b,0,4,0x3000); process.stdout.write(b.toString('hex'))`,
    );
    expect(out).toBe('88776655');
    // Unmapped: the memory gets zero pages back and no longer reaches the file.
    space.unmap(range);
    expect(probe.load32(range.memOffset + 0x2000)).toBe(0);
    probe.store32(range.memOffset + 0x2000, 1);
    const after = await inChild(
      memfd,
      `const b=Buffer.alloc(4); require('fs').readSync(3,b,0,4,0x2000); process.stdout.write(b.toString('hex'))`,
    );
    expect(after).toBe('44332211');
    native.close(memfd);
  });

  it('a region that claims more than its file holds is refused, not a SIGBUS', () => {
    const memfd = native.memfdCreate('small', 8192);
    expect(() => space.mapFile(memfd, 0, 1 << 20)).toThrow(expect.objectContaining({ code: 'EOVERFLOW' }));
    expect(() => space.mapFile(memfd, 4096, 8192)).toThrow(expect.objectContaining({ code: 'EOVERFLOW' }));
    expect(() => native.mmap(memfd, 0, 65536, true)).toThrow(expect.objectContaining({ code: 'EOVERFLOW' }));
    expect(space.mappedRanges).toHaveLength(0); // the refused slots went back to the free list
    native.close(memfd);
  });

  it('never maps past byteLength or at unaligned offsets', () => {
    const memfd = native.memfdCreate('edge', 1 << 20);
    const len = space.bytes.length;
    expect(() => native.mapInto(space.bytes, len - 4096, 8192, memfd, 0, true)).toThrow(
      expect.objectContaining({ code: 'ERANGE' }),
    );
    expect(() => native.mapInto(space.bytes, 100, 4096, memfd, 0, true)).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
    expect(() => space.mapFile(memfd, 0, 32 << 20)).toThrow();
    native.close(memfd);
  });

  it('an unaligned file offset maps its page and points inside it', () => {
    const memfd = native.memfdCreate('unaligned', 3 * 4096);
    const ab = new Uint8Array(native.mmap(memfd, 0, 3 * 4096, true));
    ab[4096 + 100] = 0x42;
    const range = space.mapFile(memfd, 4096 + 100, 200);
    expect(space.bytes[range.memOffset]).toBe(0x42);
    space.unmap(range);
    native.munmap(ab.buffer as ArrayBuffer);
    native.close(memfd);
  });
});
