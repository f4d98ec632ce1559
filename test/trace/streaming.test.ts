/**
 * The tracer forwards bytes as they arrive and never changes what the other side sees, whatever
 * a message's size or shape; each session's sockets are released when it ends (issue 20, D5).
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HEADER, encode } from '@vhost-user/codec';
import { BlkBackendDevice, UnixListener, UnixSocket, VhostUserBackend, closeFds } from '@vhost-user/transport';
import { allCases } from '../../packages/cli/src/conformance/cases.js';
import { runCases } from '../../packages/cli/src/conformance/runner.js';
import { startTrace, type Tracer } from '../../packages/cli/src/trace/proxy.js';

/** A far side that records every byte it receives. */
class Sink {
  readonly received: Uint8Array[] = [];
  readonly sockets: UnixSocket[] = [];
  private readonly listener: UnixListener;

  constructor(path: string) {
    this.listener = new UnixListener(path, (s) => {
      this.sockets.push(s);
      s.start({
        onData: (chunk, fds) => {
          this.received.push(chunk.slice());
          closeFds(fds);
        },
        onClose: () => s.close(),
      });
    });
  }

  get bytes(): number {
    return this.received.reduce((n, c) => n + c.length, 0);
  }

  all(): Uint8Array {
    return new Uint8Array(Buffer.concat(this.received));
  }

  close(): void {
    this.listener.close();
    for (const s of this.sockets) s.close();
  }
}

async function until(predicate: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const openFds = () => readdirSync('/proc/self/fd').length;

describe('vhost-user trace: streaming forwarder', () => {
  let dir: string;
  let tracer: Tracer | undefined;
  const lines: string[] = [];
  const closers: (() => void)[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vu-trace-stream-'));
    lines.length = 0;
  });
  afterEach(() => {
    for (const c of closers.splice(0).reverse()) c();
    tracer?.close();
    tracer = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  function trace(connect: string): string {
    const listen = join(dir, 'trace.sock');
    tracer = startTrace({ listen, connect, out: (l) => lines.push(l) });
    return listen;
  }

  it('forwards a header announcing 1 MiB at once, then the payload as it comes, unchanged', async () => {
    const sink = new Sink(join(dir, 'sink.sock'));
    closers.push(() => sink.close());
    const front = UnixSocket.connect(trace(join(dir, 'sink.sock')));
    closers.push(() => front.close());
    front.start({ onData: () => undefined, onClose: () => undefined });

    const header = encode('frontend', { name: 'VHOST_USER_GET_FEATURES', payload: null });
    new DataView(header.buffer).setUint32(HEADER.sizeOffset, 1 << 20, true);
    front.send(header);
    // The header alone reaches the other side: nothing waits for the payload.
    await until(() => sink.bytes === HEADER.size);
    const payload = new Uint8Array(1 << 20).map((_, i) => (i * 7) & 0xff);
    for (let at = 0; at < payload.length; at += 1 << 16) front.send(payload.subarray(at, at + (1 << 16)));
    await until(() => sink.bytes === HEADER.size + payload.length);
    const seen = sink.all();
    expect(Buffer.compare(Buffer.from(seen.subarray(0, HEADER.size)), Buffer.from(header))).toBe(0);
    expect(Buffer.compare(Buffer.from(seen.subarray(HEADER.size)), Buffer.from(payload))).toBe(0);
    // The report is the codec's verdict on the size, as for any message it cannot decode.
    await until(() => lines.length > 0);
    expect(lines[0]).toMatch(
      /GET_FEATURES undecodable size=1048576 fds=0\n\s+!! .*payload of 1048576 bytes exceeds the limit/,
    );
    expect(tracer?.violations).toBe(1);
  });

  it('forwards malformed messages byte for byte (unknown id, short payload) and the stream stays in step', async () => {
    const sink = new Sink(join(dir, 'sink.sock'));
    closers.push(() => sink.close());
    const front = UnixSocket.connect(trace(join(dir, 'sink.sock')));
    closers.push(() => front.close());
    front.start({ onData: () => undefined, onClose: () => undefined });
    const unknown = encode('frontend', { name: 'VHOST_USER_GET_FEATURES', payload: null });
    new DataView(unknown.buffer).setUint32(HEADER.requestOffset, 0xfff0, true);
    const full = encode('frontend', { name: 'VHOST_USER_SET_VRING_NUM', payload: { index: 0, num: 64 } });
    const short = full.slice(0, HEADER.size + 4);
    new DataView(short.buffer).setUint32(HEADER.sizeOffset, 4, true);
    const good = encode('frontend', { name: 'VHOST_USER_GET_FEATURES', payload: null });
    const sent = Buffer.concat([unknown, short, good]);
    // In odd pieces, so headers and payloads are split across reads.
    for (let at = 0; at < sent.length; at += 5) front.send(sent.subarray(at, at + 5));
    await until(() => sink.bytes === sent.length);
    expect(Buffer.compare(Buffer.from(sink.all()), sent)).toBe(0);
    await until(() => lines.length === 3);
    expect(lines[0]).toMatch(/id 65520 undecodable/);
    expect(lines[1]).toMatch(/SET_VRING_NUM undecodable size=4/);
    expect(lines[2]).toMatch(/GET_FEATURES request/);
  });

  it('through the tracer, the oversized-size case sees what it sees directly (the back-end closes)', async () => {
    writeFileSync(join(dir, 'disk.img'), Buffer.alloc(1 << 20));
    const backend = new VhostUserBackend(join(dir, 'blk.sock'), () => new BlkBackendDevice(join(dir, 'disk.img')), {
      memoryBytes: 16 << 20,
    });
    await backend.listen();
    closers.push(() => backend.close());
    const socket = trace(join(dir, 'blk.sock'));
    const cases = allCases().filter(
      (c) => c.id === 'malformed/oversized-size-closes' || c.id === 'rings/start-on-kick',
    );
    const results = await runCases(cases, { socket, device: 'blk', timeoutMs: 2000 });
    expect(results.map((r) => [r.id, r.outcome, r.detail])).toEqual(cases.map((c) => [c.id, 'pass', undefined]));
  });

  it("releases each session's sockets when it ends (fd count back to where it was)", async () => {
    const sink = new Sink(join(dir, 'sink.sock'));
    closers.push(() => sink.close());
    const listen = trace(join(dir, 'sink.sock'));
    const before = openFds();
    for (let i = 0; i < 200; i++) {
      const front = UnixSocket.connect(listen);
      front.start({ onData: () => undefined, onClose: () => undefined });
      front.send(encode('frontend', { name: 'VHOST_USER_GET_FEATURES', payload: null }));
      await until(() => sink.bytes >= (i + 1) * HEADER.size);
      front.close();
    }
    for (const s of sink.sockets.splice(0)) s.close();
    await until(() => tracer?.openSockets === 0);
    await until(() => openFds() <= before + 2);
    expect(openFds()).toBeLessThanOrEqual(before + 2);
  });
});
