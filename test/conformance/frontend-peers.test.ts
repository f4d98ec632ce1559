/**
 * `vhost-user conformance --frontend` against real front-ends: QEMU 7.2 and 10.0 (vhost-user-blk-pci,
 * TCG, SeaBIOS booting the disk the suite serves) and DPDK virtio_user (testpmd, net). Each adds
 * its row to the implementation matrix.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { frontendCases } from '../../packages/cli/src/conformance/frontend/cases.js';
import { BOOT_MARKER, runFrontend, type FrontendRun } from '../../packages/cli/src/conformance/frontend/runner.js';
import { loadExpectations } from '../../packages/cli/src/conformance/expectations.js';
import { matrixRow, type MatrixRow } from '../../packages/cli/src/conformance/matrix.js';
import { APT_DPDK, Peer, TempDir, missingPeer, testpmdVirtioUser } from '../interop/peers.js';
import { qmp, serialText, startQemuBlk, waitForMarker } from '../interop/guest.js';
import { debianVersion, programVersion, writeRows } from './matrix-file.js';
import { qemuGenerations } from '../interop/qemu-generations.js';

const rows: MatrixRow[] = [];
afterAll(() => writeRows('frontends', rows));

function mustFailures(run: FrontendRun): string[] {
  return run.results.filter((r) => r.level === 'MUST' && r.outcome === 'fail').map((r) => `${r.id}: ${r.detail}`);
}

function show(run: FrontendRun): void {
  if (process.env.VU_TRACE)
    for (const r of run.results) console.log(`${r.outcome} ${r.level} ${r.id} ${r.detail ?? ''}`);
}

describe('conformance --frontend against real front-ends', () => {
  let dir: TempDir;
  let peer: Peer | undefined;
  beforeEach(() => {
    dir = new TempDir();
  });
  afterEach(async () => {
    await peer?.stop();
    peer = undefined;
    dir.remove();
  });

  for (const { label, generation, missing } of qemuGenerations()) {
    it(`${label} vhost-user-blk-pci: boots the served disk; every MUST case passes or is a recorded divergence`, async (ctx) => {
      if (!generation) return ctx.skip(missing);
      const socket = dir.file('suite.sock');
      const serial = dir.file('serial.log');
      const qmpPath = dir.file('qmp.sock');
      let started: (qemu: Peer) => void = () => undefined;
      const qemu = new Promise<Peer>((resolve) => (started = resolve));
      const run = runFrontend({
        listen: socket,
        device: 'blk',
        expectations: loadExpectations(`qemu-${generation.id}-frontend`),
        onListening: () => started((peer = startQemuBlk(socket, serial, qmpPath, { generation }))),
      });
      await waitForMarker(await qemu, serial, BOOT_MARKER);
      await qmp(qmpPath, ['qmp_capabilities', 'quit']);
      const result = await run;
      show(result);
      expect(serialText(serial)).toContain(BOOT_MARKER);
      rows.push(
        matrixRow(
          `${label} vhost-user-blk-pci`,
          await programVersion(generation.system, generation.env),
          result.results,
          'blk',
          'frontend',
        ),
      );
      expect(mustFailures(result)).toEqual([]);
      expect(result.backendErrors).toEqual([]);
      // The session was judged, not skipped: QEMU set up memory and a ring and stopped it.
      const ran = (id: string) => result.results.find((r) => r.id === id)?.outcome;
      for (const id of [
        'memory/no-overlaps',
        'memory/ring-addresses-in-regions',
        'fds/ADD_MEM_REG',
        'fds/SET_VRING_KICK',
        'header/need-reply-only-with-reply-ack',
        'gating/GET_MAX_MEM_SLOTS',
      ])
        expect(ran(id), id).toBe('pass');
      expect(result.results).toHaveLength(frontendCases().length);
    }, 90_000);
  }

  it('DPDK virtio_user (testpmd, net): every MUST case passes or is a recorded divergence', async (ctx) => {
    const missing = missingPeer(['dpdk-testpmd'], APT_DPDK);
    if (missing) return ctx.skip(missing);
    const socket = dir.file('suite.sock');
    let stopTestpmd: () => void = () => undefined;
    const stop = new Promise<void>((resolve) => (stopTestpmd = resolve));
    let started: (testpmd: Peer) => void = () => undefined;
    const testpmd = new Promise<Peer>((resolve) => (started = resolve));
    const run = runFrontend({
      listen: socket,
      device: 'net',
      expectations: loadExpectations('dpdk-virtio-user'),
      stop,
      onListening: () => {
        peer = testpmdVirtioUser(socket, `vuc${process.pid}`);
        started(peer);
      },
    });
    // testpmd is forwarding once it prints its start banner; then stop it and judge the session.
    await (await testpmd).waitForLog((log) => /Press enter to exit|forwarding packets/i.test(log), 30_000);
    await new Promise((r) => setTimeout(r, 300));
    await (peer as Peer).stop();
    setTimeout(stopTestpmd, 2000).unref(); // the session normally ends with testpmd's exit
    const result = await run;
    show(result);
    rows.push(
      matrixRow(
        'DPDK virtio_user (testpmd)',
        `librte-net-virtio23 ${debianVersion('librte-net-virtio23')}`,
        result.results,
        'net',
        'frontend',
      ),
    );
    expect(mustFailures(result)).toEqual([]);
    const ran = (id: string) => result.results.find((r) => r.id === id)?.outcome;
    for (const id of ['memory/no-overlaps', 'fds/SET_MEM_TABLE', 'fds/SET_VRING_KICK'])
      expect(ran(id), id).toBe('pass');
  }, 90_000);
});
