/**
 * `npm run bench:blk`: one TS vhost-user-blk front-end drives, in the same run and over the same
 * image, qemu-storage-daemon and the TS back-end (vring's WebAssembly core and its TypeScript
 * path), each in its own process: 4 KiB random reads and writes at queue depth 1 and 32, IOPS
 * and p50/p99 latency, medians over rounds (targets alternate within a round), ratio to qsd.
 * Not a test: numbers vary with the machine.
 *
 *   npm run bench:blk [-- --rounds 5] [-- --seconds 1] [-- --json FILE] [-- --device MODULE]
 *
 * `--device MODULE` serves the TS back-end with another device (see blk-device.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VhostUserBlkClient } from '../src/index.js';
import { median, parseArgs, percentile, printTable, waitFor, writeJson } from './stats.js';

const USAGE = 'npm run bench:blk -- [--rounds N] [--seconds S] [--json FILE] [--device MODULE]';
const args = parseArgs(process.argv.slice(2), { rounds: 5, seconds: 1 }, USAGE);
const deviceAt = process.argv.indexOf('--device');
const deviceModule = deviceAt >= 0 ? process.argv[deviceAt + 1] : undefined;

const IMAGE_BYTES = 256 << 20;
const BLOCK = 4096;
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

interface Target {
  name: string;
  /** Starts the back-end listening on `socket`; the handle stops it. */
  start(socket: string, image: string): ChildProcess;
}

/** The back-ends compared; qsd first: it is the reference of the ratios. */
const targets: Target[] = [
  {
    name: 'qsd',
    start: (socket, image) =>
      spawn(
        'qemu-storage-daemon',
        [
          '--blockdev',
          `driver=file,node-name=file0,filename=${image},cache.direct=off`,
          '--export',
          `type=vhost-user-blk,id=exp0,node-name=file0,addr.type=unix,addr.path=${socket},writable=on`,
        ],
        { stdio: ['ignore', 'inherit', 'inherit'] },
      ),
  },
  ...(['wasm', 'ts'] as const).map((engine) => ({
    name: `ts-${engine}`,
    start: (socket: string, image: string) =>
      spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          fileURLToPath(new URL('./blk-serve.ts', import.meta.url)),
          '--socket',
          socket,
          '--image',
          image,
          '--engine',
          engine,
          ...(deviceModule ? ['--device', deviceModule] : []),
        ],
        { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] },
      ),
  })),
];

interface Case {
  op: 'read' | 'write';
  depth: number;
}
const cases: Case[] = [
  { op: 'read', depth: 1 },
  { op: 'read', depth: 32 },
  { op: 'write', depth: 1 },
  { op: 'write', depth: 32 },
];
const caseName = (c: Case) => `${c.op} QD${c.depth}`;

interface Round {
  iops: number;
  p50us: number;
  p99us: number;
}

/** Runs `depth` workers issuing 4 KiB requests at random aligned offsets for `ms`. */
async function run(client: VhostUserBlkClient, c: Case, ms: number): Promise<Round> {
  const blocks = IMAGE_BYTES / BLOCK;
  const data = new Uint8Array(BLOCK).fill(0x5a);
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + ms;
  const worker = async () => {
    while (performance.now() < end) {
      const offset = Math.floor(Math.random() * blocks) * BLOCK;
      const t0 = performance.now();
      if (c.op === 'read') await client.read(offset, BLOCK);
      else await client.write(offset, data);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: c.depth }, worker));
  const elapsed = (performance.now() - start) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  return {
    iops: latencies.length / elapsed,
    p50us: percentile(sorted, 50) * 1000,
    p99us: percentile(sorted, 99) * 1000,
  };
}

/** Writes a block and reads it back, so a back-end that skips the I/O cannot post a number. */
async function verify(client: VhostUserBlkClient, name: string): Promise<void> {
  const pattern = Uint8Array.from({ length: BLOCK }, (_, i) => (i * 7 + name.length) & 0xff);
  const offset = (IMAGE_BYTES / BLOCK / 2) * BLOCK;
  await client.write(offset, pattern);
  const back = await client.read(offset, BLOCK);
  if (!Buffer.from(back).equals(Buffer.from(pattern)))
    throw new Error(`${name}: a block read back differs from the block written`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vu-bench-blk-'));
  const image = join(dir, 'disk.img');
  const fd = openSync(image, 'w');
  ftruncateSync(fd, IMAGE_BYTES);
  // Written through once, so reads come from the page cache for every target alike.
  const chunk = new Uint8Array(1 << 20).fill(0xa5);
  for (let at = 0; at < IMAGE_BYTES; at += chunk.length) writeSync(fd, chunk, 0, chunk.length, at);
  closeSync(fd);
  const running: ChildProcess[] = [];
  const clients: VhostUserBlkClient[] = [];
  try {
    for (const t of targets) {
      const socket = join(dir, `${t.name}.sock`);
      const child = t.start(socket, image);
      running.push(child);
      let exited = false;
      let why = '';
      child.once('exit', () => (exited = true));
      child.once('error', (error) => {
        exited = true;
        why = `: ${error.message}`;
      });
      await waitFor(() => existsSync(socket) || exited, 20_000, `${t.name} to listen on ${socket}`);
      if (exited) throw new Error(`${t.name} exited before listening${why}; is it installed? (see .ci/run)`);
      const client = await VhostUserBlkClient.open(socket, { queueSize: 128, engine: 'wasm', timeoutMs: 20_000 });
      clients.push(client);
      await verify(client, t.name);
      await run(client, { op: 'read', depth: 1 }, 300); // warm-up: JIT, page cache, connections
    }
    console.log(
      `4 KiB random I/O on a ${IMAGE_BYTES >> 20} MiB image (page cache), ${args.rounds} rounds x ${args.seconds} s per case and target, medians; Node ${process.version}`,
    );
    const results = new Map<string, Round[]>();
    for (let round = 0; round < args.rounds; round++) {
      for (const c of cases) {
        for (let i = 0; i < targets.length; i++) {
          process.stdout.write(`\r  round ${round + 1}/${args.rounds}: ${caseName(c)} on ${targets[i]!.name}        `);
          const key = `${targets[i]!.name}|${caseName(c)}`;
          const r = await run(clients[i]!, c, args.seconds * 1000);
          results.set(key, [...(results.get(key) ?? []), r]);
        }
      }
    }
    process.stdout.write('\r' + ' '.repeat(70) + '\r');
    const rows = [['case', 'back-end', 'IOPS', 'p50 us', 'p99 us', 'IOPS vs qsd', 'IOPS range over rounds']];
    const json: Record<string, unknown>[] = [];
    for (const c of cases) {
      const ref = median(results.get(`qsd|${caseName(c)}`)!.map((r) => r.iops));
      for (const t of targets) {
        const rs = results.get(`${t.name}|${caseName(c)}`)!;
        const iops = median(rs.map((r) => r.iops));
        const p50 = median(rs.map((r) => r.p50us));
        const p99 = median(rs.map((r) => r.p99us));
        rows.push([
          caseName(c),
          t.name,
          iops.toFixed(0),
          p50.toFixed(0),
          p99.toFixed(0),
          `${(iops / ref).toFixed(2)}x`,
          `${Math.min(...rs.map((r) => r.iops)).toFixed(0)}-${Math.max(...rs.map((r) => r.iops)).toFixed(0)}`,
        ]);
        json.push({
          case: caseName(c),
          op: c.op,
          depth: c.depth,
          target: t.name,
          iops,
          p50us: p50,
          p99us: p99,
          ratioToQsd: iops / ref,
          rounds: rs,
        });
      }
    }
    printTable(rows);
    const goals = targets
      .filter((t) => t.name !== 'qsd')
      .flatMap((t) =>
        cases
          .filter((c) => c.depth === 32)
          .map((c) => {
            const entry = json.find((j) => j.target === t.name && j.case === caseName(c)) as { ratioToQsd: number };
            return {
              target: t.name,
              case: caseName(c),
              ratioToQsd: entry.ratioToQsd,
              goal: 1.0,
              ok: entry.ratioToQsd >= 1.0,
            };
          }),
      );
    console.log('');
    for (const g of goals)
      console.log(
        `goal: ${g.target} ${g.case} >= 1.00x qsd IOPS: ${g.ratioToQsd.toFixed(2)}x ${g.ok ? 'OK' : 'MISSED'}`,
      );
    if (args.json)
      writeJson(args.json, {
        bench: 'blk',
        node: process.version,
        rounds: args.rounds,
        secondsPerCase: args.seconds,
        device: deviceModule ?? 'blk-device.ts (BlkBackendDevice)',
        results: json,
        goals,
      });
  } finally {
    for (const c of clients) {
      try {
        c.close();
      } catch {
        // closing is best effort: the back-end is stopped next anyway
      }
    }
    await Promise.all(
      running.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
