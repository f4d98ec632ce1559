/**
 * Reproducers of issue #20 for the transport (D3, D4, D11) and its per-peer limits: each hostile
 * peer costs its own connection (reported through onError), never the process or other sessions.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ProtocolFeature, VirtioFeature, encode, featureMask } from '@vhost-user/codec';
import { REJECT } from '@vhost-user/vring';
import {
  EventFd,
  FrontendGuestMemory,
  ResourceLimitError,
  RingError,
  UnixSocket,
  VIRTIO_STATUS,
  VhostUserBackend,
  VhostUserFrontend,
  native,
  splitRingFootprint,
  type BackendOptions,
  type VhostUserDevice,
} from '@vhost-user/transport';
import { openFdCount } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'vu-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A device that completes every chain without touching it: the sessions are under test. */
function nullDevice(queueCount = 2): VhostUserDevice {
  return {
    features: featureMask(VirtioFeature.VIRTIO_F_VERSION_1),
    queueCount,
    process(queue) {
      for (let chain = queue.pop(); chain; chain = queue.pop()) queue.push(chain.head, 0);
      queue.notify();
    },
  };
}

let backend: VhostUserBackend | undefined;
let errors: Error[] = [];
let counter = 0;
async function start(options: BackendOptions = {}): Promise<string> {
  const sock = join(dir, `h${counter++}.sock`);
  errors = [];
  backend = new VhostUserBackend(sock, () => nullDevice(), {
    memoryBytes: 4 << 20,
    onError: (e) => errors.push(e),
    ...options,
  });
  await backend.listen();
  return sock;
}
afterEach(() => {
  backend?.close();
  backend = undefined;
});

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const limitErrors = (code: string) => errors.filter((e) => e instanceof ResourceLimitError && e.code === code);

describe('D3: a peer that does not read its replies', () => {
  it('is paused at maxQueuedBytes, then dropped; the queue never grows past twice the limit', async () => {
    const maxQueuedBytes = 64 << 10;
    const sock = await start({ limits: { maxQueuedBytes, stallTimeoutMs: 300 } });
    const baseline = openFdCount();
    const fd = native.connect(sock);
    // 1000 GET_FEATURES per write; written until the socket takes no more (the back-end stopped reading).
    const one = encode('frontend', { name: 'VHOST_USER_GET_FEATURES', payload: null });
    const batch = new Uint8Array(one.length * 1000);
    for (let i = 0; i < 1000; i++) batch.set(one, i * one.length);
    let written = 0;
    let maxPending = 0;
    let refusedInARow = 0;
    while (refusedInARow < 20 && written < 64 << 20) {
      let n = -1;
      try {
        n = native.sendmsg(fd, batch, []);
      } catch {
        break; // dropped already
      }
      if (n > 0) {
        written += n;
        refusedInARow = 0;
      } else refusedInARow++;
      for (const s of backend?.sessions ?? []) maxPending = Math.max(maxPending, s.conn.socket.pendingBytes);
      await new Promise((r) => setImmediate(r));
    }
    // Without the limit the back-end would read all of it and queue a reply to each request.
    expect(written).toBeLessThan(32 << 20);
    expect(maxPending).toBeGreaterThan(0);
    expect(maxPending).toBeLessThanOrEqual(2 * maxQueuedBytes + one.length + 20);
    await until('the stalled peer to be dropped', () => backend?.sessions.size === 0);
    expect(limitErrors('SEND_STALLED').length + limitErrors('SEND_QUEUE_FULL').length).toBe(1);
    native.close(fd);
    expect(openFdCount()).toBe(baseline);
  });

  it('keeps a peer that reads slowly: reading resumes once half of the queue is sent', async () => {
    const sock = await start({ limits: { maxQueuedBytes: 4096, stallTimeoutMs: 2000 } });
    const fe = VhostUserFrontend.connect(sock);
    // 2,000 requests in flight at once: far more replies than 4 KiB, all answered in order.
    const replies = await Promise.all(
      Array.from({ length: 2000 }, () => fe.conn.call({ name: 'VHOST_USER_GET_FEATURES', payload: null })),
    );
    expect(replies.every((r) => r.value === replies[0]?.value)).toBe(true);
    fe.close();
    expect(errors).toEqual([]);
  });
});

describe('D4: out of fds in the accept loop', () => {
  /** CPU seconds a process has used (utime + stime, at the usual 100 ticks per second). */
  function cpuSeconds(pid: number): number {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  }

  it(
    'backs off instead of spinning, reports EMFILE once through onError, and accepts again later',
    { timeout: 60_000 },
    async () => {
      // A back-end in a child with a small fd limit; this process connects more clients than it can
      // take. The child runs the workspace packages from their sources (the "source" condition), as vitest does.
      const sock = join(dir, 'emfile.sock');
      const script = join(dir, 'emfile-backend.mts');
      const transport = fileURLToPath(new URL('../src/index.ts', import.meta.url));
      writeFileSync(
        script,
        [
          `import { VhostUserBackend } from ${JSON.stringify(transport)};`,
          `await new VhostUserBackend(${JSON.stringify(sock)}, () => ({ features: 1n << 32n, queueCount: 1, process() {} }), {`,
          `  memoryBytes: 1 << 20, limits: { maxSessions: 10_000 },`,
          `  onError: (e) => process.stdout.write(JSON.stringify({ error: e.message, code: e.code }) + '\\n'),`,
          `}).listen();`,
          `const { readdirSync } = await import('node:fs');`,
          `process.stdout.write(JSON.stringify({ ready: true, fds: readdirSync('/proc/self/fd').length }) + '\\n');`,
        ].join('\n'),
      );
      const root = fileURLToPath(new URL('../../../', import.meta.url));
      const child = spawn(process.execPath, ['--conditions=@vhost-user/source', '--import', 'tsx', script], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const lines: { ready?: boolean; fds?: number; error?: string; code?: string }[] = [];
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => {
        for (const line of d.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as never);
      });
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const clients: UnixSocket[] = [];
      try {
        await until(
          'the child back-end to listen',
          () => lines.some((l) => l.ready) || child.exitCode !== null,
          30_000,
        );
        expect(child.exitCode, stderr).toBeNull();
        // Room for a few sessions only, once it is up (prlimit: util-linux).
        const limit = (lines.find((l) => l.ready)?.fds ?? 0) + 8;
        execFileSync('prlimit', ['--pid', String(child.pid), `--nofile=${limit}:${limit}`]);
        // Until the listen backlog is full too (connect then fails with EAGAIN).
        for (let i = 0; i < 100; i++) {
          let c: UnixSocket;
          try {
            c = UnixSocket.connect(sock);
          } catch {
            break;
          }
          c.start({ onData: () => undefined, onClose: () => undefined });
          clients.push(c);
        }
        await until('EMFILE to be reported', () => lines.some((l) => l.code === 'EMFILE'), 10_000);
        const before = cpuSeconds(child.pid as number);
        await new Promise((r) => setTimeout(r, 1500));
        const used = cpuSeconds(child.pid as number) - before;
        // A spinning accept loop burns a whole core (about 1.5 s here).
        expect(used).toBeLessThan(0.5);
        expect(lines.filter((l) => l.code === 'EMFILE').length).toBeLessThanOrEqual(2);
        // Freed fds: a new front-end is served.
        for (const c of clients.splice(0)) c.close();
        const fe = VhostUserFrontend.connect(sock);
        try {
          const features = await fe.conn.call(
            { name: 'VHOST_USER_GET_FEATURES', payload: null },
            { timeoutMs: 10_000 },
          );
          expect(features.value & (1n << 32n)).toBe(1n << 32n);
        } finally {
          fe.close();
        }
        expect(child.exitCode, stderr).toBeNull();
      } finally {
        for (const c of clients) c.close();
        child.kill();
        await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      }
    },
  );
});

describe('fds and sessions', () => {
  it('drops a peer whose message brings more fds than any message carries, closing them all', async () => {
    const sock = await start();
    const baseline = openFdCount();
    const flood = Array.from({ length: 9 }, () => native.eventfd(0));
    const fd = native.connect(sock);
    native.sendmsg(fd, encode('frontend', { name: 'VHOST_USER_GET_FEATURES', payload: null }), flood);
    for (const f of flood) native.close(f);
    await until('the session to end', () => backend?.sessions.size === 0 && limitErrors('FDS_PER_MESSAGE').length > 0);
    native.close(fd);
    // Nothing left behind. (Not strict equality: pipes of the previous test's child process may
    // still be closing, which lowers the count below the baseline.)
    expect(openFdCount()).toBeLessThanOrEqual(baseline);
  });

  it('refuses a request that would make the session hold more fds than maxFdsPerSession', async () => {
    const sock = await start({ limits: { maxFdsPerSession: 3 } });
    const fe = VhostUserFrontend.connect(sock);
    await fe.handshake(featureMask(VirtioFeature.VIRTIO_F_VERSION_1)); // the back-end channel: 1 fd held
    const fds = [new EventFd(), new EventFd(), new EventFd()];
    const set = (name: 'VHOST_USER_SET_VRING_CALL' | 'VHOST_USER_SET_VRING_ERR', index: number, fd: EventFd) =>
      fe.conn.request({ name, payload: { value: BigInt(index) } }, { fds: [fd.fd] });
    await set('VHOST_USER_SET_VRING_CALL', 0, fds[0] as EventFd);
    await set('VHOST_USER_SET_VRING_ERR', 0, fds[1] as EventFd);
    await expect(set('VHOST_USER_SET_VRING_CALL', 1, fds[2] as EventFd)).rejects.toMatchObject({ code: 'NACK' });
    expect(limitErrors('FDS_PER_SESSION').length).toBe(1);
    // Refused, not dropped: the session goes on.
    await fe.conn.call({ name: 'VHOST_USER_GET_FEATURES', payload: null });
    expect(backend?.sessions.size).toBe(1);
    fe.close();
    for (const f of fds) f.close();
  });

  it('closes a front-end beyond maxSessions at once and serves the next one when a session ends', async () => {
    const sock = await start({ limits: { maxSessions: 2 } });
    const a = VhostUserFrontend.connect(sock);
    const b = VhostUserFrontend.connect(sock);
    await a.conn.call({ name: 'VHOST_USER_GET_FEATURES', payload: null });
    await b.conn.call({ name: 'VHOST_USER_GET_FEATURES', payload: null });
    const c = VhostUserFrontend.connect(sock);
    await expect(c.conn.call({ name: 'VHOST_USER_GET_FEATURES', payload: null })).rejects.toMatchObject({
      code: 'CLOSED',
    });
    expect(limitErrors('SESSIONS').length).toBe(1);
    a.close();
    await until('a session to end', () => backend?.sessions.size === 1);
    const d = VhostUserFrontend.connect(sock);
    await d.conn.call({ name: 'VHOST_USER_GET_FEATURES', payload: null });
    for (const fe of [b, c, d]) fe.close();
  });
});

describe('D11: avail.idx far ahead of the device', () => {
  it.each(['wasm', 'ts'] as const)(
    'signals the err eventfd, reports through onError and sets DEVICE_NEEDS_RESET (%s core)',
    async (engine) => {
      const sock = await start({ engine });
      const fe = VhostUserFrontend.connect(sock);
      const memory = new FrontendGuestMemory({ size: 1 << 20 });
      const err = new EventFd();
      try {
        await fe.handshake(featureMask(VirtioFeature.VIRTIO_F_VERSION_1));
        expect(fe.hasProtocolFeature(ProtocolFeature.VHOST_USER_PROTOCOL_F_STATUS)).toBe(true);
        await fe.setFeatures();
        await fe.setMemory(memory);
        await fe.conn.request({ name: 'VHOST_USER_SET_VRING_ERR', payload: { value: 0n } }, { fds: [err.fd] });
        const size = 256;
        const f = splitRingFootprint(size);
        const descAddr = memory.allocate(f.desc[0], 4096);
        const availAddr = memory.allocate(f.avail[0], f.avail[1]);
        const usedAddr = memory.allocate(f.used[0], 4096);
        // avail.idx (at offset 2 of the available ring) 0x8000 ahead of the device's 0.
        new DataView(memory.view(availAddr, 4).buffer, memory.view(availAddr, 4).byteOffset).setUint16(2, 0x8000, true);
        await fe.startRing(memory, { index: 0, size, descAddr, availAddr, usedAddr });
        await until('the ring error to be reported', () => errors.length > 0);
        const ringError = errors.find((e) => e instanceof RingError) as RingError | undefined;
        expect(ringError?.reason).toBe(REJECT.AVAIL_INDEX_TOO_FAR);
        expect(native.eventfdRead(err.fd)).not.toBeNull();
        const status = await fe.conn.call({ name: 'VHOST_USER_GET_STATUS', payload: null });
        expect(Number(status.value) & VIRTIO_STATUS.NEEDS_RESET).toBe(VIRTIO_STATUS.NEEDS_RESET);
        // RESET_DEVICE starts over: the bit is cleared.
        await fe.conn.request({ name: 'VHOST_USER_RESET_DEVICE', payload: null });
        const reset = await fe.conn.call({ name: 'VHOST_USER_GET_STATUS', payload: null });
        expect(reset.value).toBe(0n);
      } finally {
        fe.close();
        err.close();
        await until('the session to end', () => backend?.sessions.size === 0);
        memory.close();
      }
    },
  );
});
