/**
 * Soak (issue #20, item 8): about 2,000 hostile sessions against one back-end, mixing the classes
 * of bad peer the issue found, run a few dozen at a time. Bounded to well under a minute. The
 * process must live, keep serving a well-behaved front-end, return to its baseline fd count,
 * and keep its RSS within a bound. The figures are printed for the record.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { HEADER, VirtioFeature, encode, featureMask } from '@vhost-user/codec';
import {
  EventFd,
  FrontendGuestMemory,
  ResourceLimitError,
  VhostUserBackend,
  VhostUserFrontend,
  native,
  splitRingFootprint,
  type VhostUserDevice,
} from '@vhost-user/transport';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFdCount, openFds } from './helpers.js';

const SESSIONS = 2000;
const AT_ONCE = 40;
/** Reached now and then (the idle-connections class holds 4 sessions at once). */
const MAX_SESSIONS = 32;
/** RSS the soak may add over its warmed-up start (sessions are short; nothing should pile up). */
const RSS_BOUND = 192 << 20;

const dir = mkdtempSync(join(tmpdir(), 'vu-soak-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const device = (): VhostUserDevice => ({
  features: featureMask(VirtioFeature.VIRTIO_F_VERSION_1),
  queueCount: 2,
  process(queue) {
    for (let chain = queue.pop(); chain; chain = queue.pop()) queue.push(chain.head, 0);
    queue.notify();
  },
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function header(id: number, flags: number, size: number): Uint8Array {
  const b = new Uint8Array(HEADER.size);
  const v = new DataView(b.buffer);
  v.setUint32(0, id, true);
  v.setUint32(4, flags, true);
  v.setUint32(8, size, true);
  return b;
}

const GET_FEATURES = encode('frontend', { name: 'VHOST_USER_GET_FEATURES', payload: null });
const FLOOD = new Uint8Array(GET_FEATURES.length * 4000);
for (let i = 0; i < 4000; i++) FLOOD.set(GET_FEATURES, i * GET_FEATURES.length);

/** Peers that found the listen backlog full (they never became a session). */
let notConnected = 0;

/** Connects, writes each chunk (with its fds), lingers, hangs up. Fds given are closed here. */
async function raw(sock: string, chunks: { bytes: Uint8Array; fds?: number[] }[], lingerMs = 2): Promise<void> {
  let fd: number;
  try {
    fd = native.connect(sock);
  } catch {
    for (const c of chunks) for (const f of c.fds ?? []) native.close(f);
    notConnected++;
    return;
  }
  try {
    for (const c of chunks) {
      try {
        native.sendmsg(fd, c.bytes, c.fds ?? []);
      } catch {
        break; // the back-end dropped us already
      }
    }
    await sleep(lingerMs);
  } finally {
    for (const c of chunks) for (const f of c.fds ?? []) native.close(f);
    native.close(fd);
  }
}

const eventfds = (n: number) => Array.from({ length: n }, () => native.eventfd(0));

/** The classes of hostile peer, by name. */
const CLASSES: Record<string, (sock: string) => Promise<void>> = {
  garbage: (sock) => raw(sock, [{ bytes: new Uint8Array(300).map((_, i) => (i * 97 + 13) & 0xff) }]),
  'header cut short': (sock) => raw(sock, [{ bytes: header(1, 1, 0).subarray(0, 7) }]),
  'payload cut short, with fds': (sock) =>
    raw(sock, [{ bytes: new Uint8Array([...header(13, 1, 8), 1, 2, 3]), fds: eventfds(1) }]),
  'absurd size': (sock) => raw(sock, [{ bytes: header(5, 1, 0xfffffff0) }, { bytes: new Uint8Array(512) }]),
  'unknown id, then a request': (sock) => raw(sock, [{ bytes: header(999, 1, 0) }, { bytes: GET_FEATURES }], 5),
  'fd flood (more fds than any message carries)': (sock) => raw(sock, [{ bytes: GET_FEATURES, fds: eventfds(12) }]),
  'fds on a message that takes none': (sock) => raw(sock, [{ bytes: GET_FEATURES, fds: eventfds(3) }], 5),
  'eventfds for rings that do not exist': (sock) =>
    raw(
      sock,
      [7, 9, 200].map((index) => ({
        bytes: encode('frontend', { name: 'VHOST_USER_SET_VRING_CALL', payload: { value: BigInt(index) } }),
        fds: eventfds(1),
      })),
      5,
    ),
  'never reads its replies': async (sock) => {
    // Requests written for as long as the back-end reads them: far more replies than the
    // socket buffers and the 16 KiB queue limit hold. It stays connected past the stall
    // timeout (100 ms), so the back-end has to drop it.
    let fd: number;
    try {
      fd = native.connect(sock);
    } catch {
      notConnected++;
      return;
    }
    try {
      for (let refused = 0; refused < 3;) {
        const n = native.sendmsg(fd, FLOOD, []);
        refused = n > 0 ? 0 : refused + 1;
        await sleep(2);
      }
      await sleep(150);
    } catch {
      // dropped while writing
    } finally {
      native.close(fd);
    }
  },
  'idle connections (4 held at once)': async (sock) => {
    const fds: number[] = [];
    try {
      for (let i = 0; i < 4; i++) fds.push(native.connect(sock));
    } catch {
      notConnected++;
    }
    await sleep(60);
    for (const fd of fds) native.close(fd);
  },
  'avail index far ahead': async (sock) => {
    let fe: VhostUserFrontend;
    try {
      fe = VhostUserFrontend.connect(sock, { timeoutMs: 10_000 });
    } catch {
      notConnected++;
      return;
    }
    const memory = new FrontendGuestMemory({ size: 64 << 10 });
    const err = new EventFd();
    try {
      await fe.handshake(featureMask(VirtioFeature.VIRTIO_F_VERSION_1));
      await fe.setFeatures();
      await fe.setMemory(memory);
      await fe.conn.request({ name: 'VHOST_USER_SET_VRING_ERR', payload: { value: 0n } }, { fds: [err.fd] });
      const f = splitRingFootprint(64);
      const descAddr = memory.allocate(f.desc[0], 4096);
      const availAddr = memory.allocate(f.avail[0], f.avail[1]);
      const usedAddr = memory.allocate(f.used[0], 4096);
      const avail = memory.view(availAddr, 4);
      new DataView(avail.buffer, avail.byteOffset).setUint16(2, 0x8000, true);
      await fe.startRing(memory, { index: 0, size: 64, descAddr, availAddr, usedAddr });
    } catch {
      // refused at the session limit, or dropped: also a possible end for a hostile session
    } finally {
      fe.close();
      err.close();
      memory.close();
    }
  },
};
const NAMES = Object.keys(CLASSES);

describe('soak: hostile sessions', () => {
  it(
    `${SESSIONS} hostile sessions: the process lives, fds return to baseline, RSS stays bounded`,
    { timeout: 120_000 },
    async () => {
      const sock = join(dir, 'soak.sock');
      const errors = new Map<string, number>();
      let ended = 0;
      const backend = new VhostUserBackend(sock, device, {
        memoryBytes: 1 << 20,
        limits: { maxQueuedBytes: 16 << 10, stallTimeoutMs: 100, maxSessions: MAX_SESSIONS },
        onError: (e) => {
          const key = e instanceof ResourceLimitError ? e.code : e.name;
          errors.set(key, (errors.get(key) ?? 0) + 1);
        },
        onSessionEnd: () => ended++,
        backlog: 128,
      });
      await backend.listen();
      try {
        const idle = async () => {
          for (let i = 0; i < 2000 && backend.sessions.size > 0; i++) await sleep(5);
          expect(backend.sessions.size).toBe(0);
        };
        // Warm up (code paths compiled, arenas sized) before the baseline is taken.
        for (const name of NAMES) await CLASSES[name]?.(sock);
        await idle();
        const fdsBefore = openFdCount();
        const before = openFds();
        const rssBefore = process.memoryUsage().rss;
        let rssPeak = rssBefore;
        const started = performance.now();
        const counts = new Map<string, number>();
        for (let done = 0; done < SESSIONS; done += AT_ONCE) {
          await Promise.all(
            Array.from({ length: Math.min(AT_ONCE, SESSIONS - done) }, (_, k) => {
              const name = NAMES[(done + k) % NAMES.length] as string;
              counts.set(name, (counts.get(name) ?? 0) + 1);
              return (CLASSES[name] as (s: string) => Promise<void>)(sock);
            }),
          );
          rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
        }
        await idle();
        const seconds = (performance.now() - started) / 1000;

        // Still serving a well-behaved front-end.
        const fe = VhostUserFrontend.connect(sock);
        const features = await fe.conn.call({ name: 'VHOST_USER_GET_FEATURES', payload: null });
        expect(features.value & featureMask(VirtioFeature.VIRTIO_F_VERSION_1)).not.toBe(0n);
        fe.close();
        await idle();

        const fdsAfter = openFdCount();
        const leaked = [...openFds()].filter(([fd, target]) => before.get(fd) !== target);
        const rssAfter = process.memoryUsage().rss;
        const mib = (n: number) => `${(n / (1 << 20)).toFixed(1)} MiB`;
        console.log(
          [
            `soak: ${SESSIONS} hostile sessions (${AT_ONCE} at a time, session limit ${MAX_SESSIONS}) in ${seconds.toFixed(1)} s;`,
            `${ended} sessions ended in all, ${notConnected} peers found the backlog full`,
            `  classes: ${[...counts].map(([n, c]) => `${n} ${c}`).join(', ')}`,
            `  reported: ${[...errors].map(([n, c]) => `${n} ${c}`).join(', ')}`,
            `  fds: ${fdsBefore} before, ${fdsAfter} after`,
            `  RSS: ${mib(rssBefore)} before, ${mib(rssPeak)} peak, ${mib(rssAfter)} after (bound: +${mib(RSS_BOUND)})`,
          ].join('\n'),
        );
        expect(leaked).toEqual([]);
        expect(fdsAfter).toBe(fdsBefore);
        expect(rssPeak - rssBefore).toBeLessThan(RSS_BOUND);
        // Each class was reported through onError as what it is.
        expect((errors.get('SEND_STALLED') ?? 0) + (errors.get('SEND_QUEUE_FULL') ?? 0)).toBeGreaterThan(0);
        for (const kind of ['FDS_PER_MESSAGE', 'SESSIONS', 'RingError', 'VhostUserError'])
          expect(errors.get(kind) ?? 0, kind).toBeGreaterThan(0);
        expect(seconds).toBeLessThan(60);
      } finally {
        backend.close();
      }
    },
  );
});
