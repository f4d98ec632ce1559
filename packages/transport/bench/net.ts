/**
 * `npm run bench:net`: DPDK testpmd's virtio_user PMD in txonly mode sends 64-byte packets to
 * (a) testpmd with the vhost PMD in rxonly mode and (b) the TS net back-end on the WebAssembly
 * core's fused serve pass, alternating within each round; Mpps of each (medians over rounds)
 * and the ratio. The same instrument counts both: the sender's transmitted-packet total over
 * the window from "forwarding started" to the stop signal. DPDK busy-polls a core: runs are short.
 *
 *   npm run bench:net [-- --rounds 5] [-- --seconds 2] [-- --json FILE]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VhostUserBackend } from '../src/index.js';
import { FusedNetSink } from './net-device.js';
import { median, parseArgs, printTable, waitFor, writeJson } from './stats.js';

const USAGE = 'npm run bench:net -- [--rounds N] [--seconds S] [--json FILE]';
const args = parseArgs(process.argv.slice(2), { rounds: 5, seconds: 2 }, USAGE);
const EAL = ['--no-pci', '--no-huge', '-m', '512', '--no-shconf'];
let prefixes = 0;
const prefix = () => `vubench${process.pid}n${prefixes++}`;

/** A testpmd process with its output collected. */
class TestPmd {
  readonly child: ChildProcess;
  log = '';
  exited = false;

  constructor(eal: string[], testpmd: string[]) {
    this.child = spawn('stdbuf', ['-oL', 'dpdk-testpmd', ...eal, '--', ...testpmd], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (b: Buffer) => (this.log += b.toString());
    this.child.stdout?.on('data', collect);
    this.child.stderr?.on('data', collect);
    this.child.once('exit', () => (this.exited = true));
    this.child.once('error', (e) => {
      this.log += `\n${e.message}`;
      this.exited = true;
    });
  }

  /** SIGINT makes testpmd stop forwarding and print its totals. */
  async stop(): Promise<void> {
    if (!this.exited) {
      this.child.kill('SIGINT');
      try {
        await waitFor(() => this.exited, 10_000, 'testpmd to exit');
      } catch {
        this.child.kill('SIGKILL');
        await waitFor(() => this.exited, 5_000, 'testpmd to be killed');
      }
    }
  }

  /** The accumulated TX-packets total printed at exit. */
  txPackets(): number {
    const all = [...this.log.matchAll(/TX-packets:\s+(\d+)\s+TX-dropped/g)];
    const last = all[all.length - 1];
    if (!last) throw new Error(`testpmd printed no forward statistics:\n${this.log.slice(-2000)}`);
    return Number(last[1]);
  }
}

/** The sender: virtio_user in txonly mode on `socket`; forwarding core 0, main core 1. */
function sender(socket: string): TestPmd {
  return new TestPmd(
    [
      '-l',
      '0-1',
      '--main-lcore',
      '1',
      ...EAL,
      '--file-prefix',
      prefix(),
      '--vdev',
      `net_virtio_user0,path=${socket},queues=1,queue_size=256`,
    ],
    ['--forward-mode=txonly', '--stats-period', '3600', '--nb-cores=1', '--total-num-mbufs=8192'],
  );
}

interface Target {
  name: string;
  /** Starts a receiver listening on `socket`; returns how to stop it and, if it counts, its count. */
  start(socket: string): Promise<{ stop(): Promise<void>; received?: () => number }>;
}

const targets: Target[] = [
  {
    name: 'dpdk-vhost',
    async start(socket) {
      const rx = new TestPmd(
        ['-l', '0-1', ...EAL, '--file-prefix', prefix(), '--vdev', `net_vhost0,iface=${socket},queues=1`],
        ['--stats-period', '3600', '--nb-cores=1', '--total-num-mbufs=8192', '--forward-mode=rxonly'],
      );
      await waitFor(() => existsSync(socket) || rx.exited, 20_000, `testpmd (vhost PMD) to listen on ${socket}`);
      if (rx.exited)
        throw new Error(`testpmd (vhost PMD) exited; is DPDK installed (see .ci/run)?\n${rx.log.slice(-2000)}`);
      return { stop: () => rx.stop() };
    },
  },
  {
    name: 'ts-wasm-fused',
    async start(socket) {
      const devices: FusedNetSink[] = [];
      const errors: Error[] = [];
      const backend = new VhostUserBackend(
        socket,
        () => {
          const d = new FusedNetSink();
          devices.push(d);
          return d;
        },
        { engine: 'wasm', memoryBytes: 1 << 30, onError: (e) => errors.push(e) },
      );
      await backend.listen();
      return {
        stop: async () => {
          backend.close();
          if (errors.length > 0) throw new Error(`TS back-end errors: ${errors.map((e) => e.message).join('; ')}`);
        },
        received: () => devices.reduce((n, d) => n + d.packets, 0),
      };
    },
  },
];

interface Round {
  mpps: number;
  packets: number;
  seconds: number;
}

async function measure(target: Target, dir: string): Promise<Round> {
  const socket = join(dir, `${target.name}.sock`);
  rmSync(socket, { force: true });
  const receiver = await target.start(socket);
  let tx: TestPmd | undefined;
  try {
    tx = sender(socket);
    const started = () => tx!.log.includes('Logical Core') || tx!.exited;
    await waitFor(started, 30_000, 'the sender to start forwarding');
    if (tx.exited) throw new Error(`the sender exited before forwarding:\n${tx.log.slice(-2000)}`);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, args.seconds * 1000));
    const seconds = (performance.now() - t0) / 1000;
    await tx.stop();
    const packets = tx.txPackets();
    const received = receiver.received?.();
    // The receiver took all but what the ring (256) still held when the sender stopped.
    if (received !== undefined && Math.abs(received - packets) > 256)
      throw new Error(`${target.name}: the sender counted ${packets} packets, the back-end ${received}`);
    return { mpps: packets / seconds / 1e6, packets, seconds };
  } finally {
    await tx?.stop();
    await receiver.stop();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vu-bench-net-'));
  try {
    console.log(
      `64-byte packets from testpmd virtio_user (txonly), ${args.rounds} rounds x ${args.seconds} s per target, medians; Node ${process.version}`,
    );
    const rounds = new Map<string, Round[]>(targets.map((t) => [t.name, []]));
    for (let round = 0; round < args.rounds; round++) {
      for (const t of targets) {
        process.stdout.write(`\r  round ${round + 1}/${args.rounds}: ${t.name}            `);
        rounds.get(t.name)!.push(await measure(t, dir));
      }
    }
    process.stdout.write('\r' + ' '.repeat(60) + '\r');
    const ref = median(rounds.get('dpdk-vhost')!.map((r) => r.mpps));
    const results = targets.map((t) => {
      const mpps = median(rounds.get(t.name)!.map((r) => r.mpps));
      return { target: t.name, mpps, ratioToDpdk: mpps / ref, rounds: rounds.get(t.name)! };
    });
    printTable([
      ['receiver', 'Mpps', 'vs DPDK vhost PMD', 'rounds (Mpps)'],
      ...results.map((r) => [
        r.target,
        r.mpps.toFixed(3),
        `${r.ratioToDpdk.toFixed(2)}x`,
        r.rounds.map((x) => x.mpps.toFixed(2)).join(' '),
      ]),
    ]);
    const ts = results.find((r) => r.target === 'ts-wasm-fused')!;
    const goal = { target: ts.target, ratioToDpdk: ts.ratioToDpdk, goal: 0.5, ok: ts.ratioToDpdk >= 0.5 };
    console.log(`\ngoal: TS back-end >= 0.50x DPDK: ${goal.ratioToDpdk.toFixed(2)}x ${goal.ok ? 'OK' : 'MISSED'}`);
    if (args.json)
      writeJson(args.json, {
        bench: 'net',
        node: process.version,
        rounds: args.rounds,
        secondsPerRound: args.seconds,
        results,
        goal,
      });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
