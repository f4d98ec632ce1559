/**
 * `vhost-user conformance` against real back-ends, and the implementation matrix for the site
 * (results/matrix.json). In CI (CI=true) a missing peer fails; elsewhere it is skipped with the
 * install command.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { BlkBackendDevice, VhostUserBackend } from '@vhost-user/transport';
import { allCases } from '../../packages/cli/src/conformance/cases.js';
import { loadExpectations } from '../../packages/cli/src/conformance/expectations.js';
import { matrixRow, type MatrixRow } from '../../packages/cli/src/conformance/matrix.js';
import { debianVersion, programVersion, writeRows } from './matrix-file.js';
import { qemuGenerations } from '../interop/qemu-generations.js';
import { runCases } from '../../packages/cli/src/conformance/runner.js';
import { APT_DPDK, APT_GPU, APT_QEMU, TempDir, missingPeer } from '../interop/peers.js';

const rows: MatrixRow[] = [];
const packageVersion = debianVersion;

afterAll(() => writeRows('backends', rows));

interface PeerSpec {
  name: string;
  programs: string[];
  install: string;
  pkg: string;
  impl: string;
  device?: string;
  restartEachCase?: boolean;
  timeoutMs?: number;
  /** Why the peer cannot run here (decided up front, e.g. QEMU 10.0 not unpacked). */
  missing?: string;
  /** The version shown in the matrix, when not the Debian package's. */
  version?: () => Promise<string>;
  /** Environment of the spawned peer. */
  env?: NodeJS.ProcessEnv;
  command(dir: TempDir, socket: string): string;
}

const PEERS: PeerSpec[] = [
  ...qemuGenerations().map(({ label, generation, missing }): PeerSpec => ({
    name: `qemu-storage-daemon ${label.replace('QEMU ', '')} (vhost-user-blk)`,
    missing,
    programs: [],
    install: APT_QEMU,
    version: generation ? () => programVersion(generation.storageDaemon, generation.env) : undefined,
    pkg: 'qemu-system-common',
    impl: `libvhost-user-${generation?.id ?? label.replace('QEMU ', '')}`,
    device: 'blk',
    env: generation?.env,
    command: (dir, socket) => {
      execFileSync('truncate', ['-s', '16M', dir.file('disk.img')]);
      return `${generation?.storageDaemon} --blockdev driver=file,node-name=file0,filename=${dir.file('disk.img')} --export type=vhost-user-blk,id=exp0,node-name=file0,addr.type=unix,addr.path=${socket},writable=on`;
    },
  })),
  {
    name: 'virtiofsd (C, QEMU 7.2)',
    programs: ['/usr/lib/qemu/virtiofsd'],
    install: APT_QEMU,
    pkg: 'qemu-system-common',
    impl: 'virtiofsd',
    restartEachCase: true,
    command: (dir, socket) => {
      mkdirSync(dir.file('share'), { recursive: true });
      return `/usr/lib/qemu/virtiofsd --socket-path=${socket} -o source=${dir.file('share')} -o sandbox=chroot`;
    },
  },
  {
    name: 'vhost-user-gpu (QEMU 7.2)',
    programs: ['/usr/lib/qemu/vhost-user-gpu'],
    install: APT_GPU,
    pkg: 'qemu-system-gui',
    impl: 'vhost-user-gpu-7.2',
    restartEachCase: true,
    command: (_dir, socket) => `/usr/lib/qemu/vhost-user-gpu --socket-path=${socket}`,
  },
  {
    name: 'DPDK testpmd vhost PMD (net)',
    programs: ['dpdk-testpmd'],
    install: APT_DPDK,
    pkg: 'librte-net-vhost23',
    impl: 'dpdk',
    // No device profile yet: DPDK starts a net device only once every ring of a queue pair is
    // set up, which the suite's single-ring data path does not do, so data-path cases are skipped.
    timeoutMs: 3000,
    command: (_dir, socket) =>
      `dpdk-testpmd -l 0-1 --no-pci --no-huge -m 512 --no-shconf --vdev 'net_vhost0,iface=${socket},queues=1' -- --stats-period 3600 --nb-cores=1 --total-num-mbufs=8192`,
  },
];

describe('conformance against real back-ends', () => {
  for (const peer of PEERS) {
    it(`${peer.name}: every MUST case passes or is a recorded divergence`, async (ctx) => {
      const missing = peer.missing ?? missingPeer(peer.programs, peer.install);
      if (missing) return ctx.skip(missing);
      const dir = new TempDir();
      try {
        const socket = dir.file('peer.sock');
        const results = await runCases(allCases(), {
          socket,
          spawn: peer.command(dir, socket),
          spawnEnv: peer.env,
          restartEachCase: peer.restartEachCase,
          device: peer.device,
          timeoutMs: peer.timeoutMs ?? 1000,
          expectations: loadExpectations(peer.impl),
        });
        const version = peer.version ? await peer.version() : `${peer.pkg} ${packageVersion(peer.pkg)}`;
        rows.push(matrixRow(peer.name, version, results, peer.device));
        const unexpected = results
          .filter((r) => r.level === 'MUST' && r.outcome === 'fail')
          .map((r) => `${r.id}: ${r.detail}`);
        expect(unexpected).toEqual([]);
        // An expectation this run did not see is stale: update expectations/<impl>.yaml.
        expect(results.filter((r) => r.stale).map((r) => r.id)).toEqual([]);
        // The suite really drove the peer: most MUST cases ran.
        expect(results.filter((r) => r.outcome === 'pass').length).toBeGreaterThan(15);
      } finally {
        dir.remove();
      }
    }, 120_000);
  }

  it('the project TypeScript back-end', async () => {
    const dir = new TempDir();
    const socket = dir.file('ts.sock');
    writeFileSync(dir.file('disk.img'), Buffer.alloc(1 << 20));
    const backend = new VhostUserBackend(socket, () => new BlkBackendDevice(dir.file('disk.img')), {
      memoryBytes: 64 << 20,
    });
    await backend.listen();
    try {
      const results = await runCases(allCases(), {
        socket,
        device: 'blk',
        timeoutMs: 1000,
        expectations: loadExpectations('ts-backend'),
      });
      rows.push(matrixRow('@vhost-user/transport (TS blk back-end)', 'workspace 0.1.0', results, 'blk'));
      expect(results.filter((r) => r.outcome === 'fail')).toEqual([]);
    } finally {
      backend.close();
      dir.remove();
    }
  });
});
