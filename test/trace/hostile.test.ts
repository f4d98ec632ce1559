/**
 * Issue #20, D3 for the tracer: a front-end that never reads its replies cannot make the tracer
 * hold an unbounded queue. The tracer's sockets are transport UnixSockets, so they stop reading
 * from a peer whose replies pile up (then drop it): the front-end soon cannot write any more.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VirtioFeature, encode, featureMask } from '@vhost-user/codec';
import { VhostUserBackend, native } from '@vhost-user/transport';
import { startTrace } from '../../packages/cli/src/trace/proxy.js';

const dir = mkdtempSync(join(tmpdir(), 'vu-trace-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tracer with a front-end that does not read', () => {
  it(
    'stops reading from it once its replies pile up, instead of queueing without bound',
    { timeout: 60_000 },
    async () => {
      const backendSock = join(dir, 'backend.sock');
      const traceSock = join(dir, 'trace.sock');
      const backend = new VhostUserBackend(
        backendSock,
        () => ({ features: featureMask(VirtioFeature.VIRTIO_F_VERSION_1), queueCount: 1, process: () => undefined }),
        { memoryBytes: 1 << 20 },
      );
      await backend.listen();
      const tracer = startTrace({ listen: traceSock, connect: backendSock, filter: ['NOTHING'], out: () => undefined });
      const fd = native.connect(traceSock);
      try {
        const one = encode('frontend', { name: 'VHOST_USER_GET_FEATURES', payload: null });
        const batch = new Uint8Array(one.length * 1000);
        for (let i = 0; i < 1000; i++) batch.set(one, i * one.length);
        let written = 0;
        let refusedInARow = 0;
        const deadline = Date.now() + 20_000;
        // Written until nothing more is taken for a while (or far past any sane bound).
        while (refusedInARow < 100 && written < 64 << 20 && Date.now() < deadline) {
          let n = -1;
          try {
            n = native.sendmsg(fd, batch, []);
          } catch {
            break; // dropped
          }
          if (n > 0) {
            written += n;
            refusedInARow = 0;
          } else refusedInARow++;
          await new Promise((r) => setTimeout(r, n > 0 ? 0 : 5));
        }
        // The tracer stopped taking requests (unbounded, it takes them for as long as it is fed,
        // queueing a reply of 20 bytes for each 12 it reads).
        expect(refusedInARow, `${written} bytes written`).toBeGreaterThanOrEqual(100);
        expect(written).toBeLessThan(16 << 20);
      } finally {
        native.close(fd);
        tracer.close();
        backend.close();
      }
    },
  );
});
