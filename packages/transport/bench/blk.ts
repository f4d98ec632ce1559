/**
 * 4 KiB random reads through qemu-storage-daemon from the TS vhost-user-blk front-end, at queue
 * depth 1 and 32: IOPS and latency percentiles, vring's WebAssembly core vs its TypeScript path,
 * in the same run. Not a test: numbers vary with the machine.
 *
 *   npm run bench:blk [-- --seconds 3]
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VhostUserBlkClient, type EngineName } from '../src/index.js';

const IMAGE_BYTES = 256 << 20;
const BLOCK = 4096;
const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1] ?? 0) || 3;

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function run(
  client: VhostUserBlkClient,
  depth: number,
  durationMs: number,
): Promise<{ iops: number; lat: Float64Array }> {
  const sectors = IMAGE_BYTES / 512;
  const perBlock = BLOCK / 512;
  const latencies: number[] = [];
  let done = 0;
  const end = performance.now() + durationMs;
  const start = performance.now();
  const worker = async () => {
    while (performance.now() < end) {
      const sector = Math.floor(Math.random() * (sectors / perBlock)) * perBlock;
      const t0 = performance.now();
      await client.read(sector * 512, BLOCK);
      latencies.push(performance.now() - t0);
      done++;
    }
  };
  await Promise.all(Array.from({ length: depth }, worker));
  const elapsed = (performance.now() - start) / 1000;
  return { iops: done / elapsed, lat: Float64Array.from(latencies).sort() };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vu-bench-'));
  const image = join(dir, 'disk.img');
  const fd = openSync(image, 'w');
  ftruncateSync(fd, IMAGE_BYTES);
  closeSync(fd);
  const sock = join(dir, 'qsd.sock');
  const qsd = spawn(
    'qemu-storage-daemon',
    [
      '--blockdev',
      `driver=file,node-name=file0,filename=${image},cache.direct=off`,
      '--export',
      `type=vhost-user-blk,id=exp0,node-name=file0,addr.type=unix,addr.path=${sock},writable=on`,
    ],
    { stdio: 'inherit' },
  );
  try {
    for (let i = 0; i < 500 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 10));
    console.log(
      `4 KiB random reads, qemu-storage-daemon, ${IMAGE_BYTES >> 20} MiB image (page cache), ${seconds} s per case, Node ${process.version}`,
    );
    console.log('engine  QD   IOPS      p50 us   p90 us   p99 us   p99.9 us');
    for (const engine of ['wasm', 'ts'] as EngineName[]) {
      const client = await VhostUserBlkClient.open(sock, { queueSize: 128, engine });
      await run(client, 1, 300); // warm-up
      for (const depth of [1, 32]) {
        const { iops, lat } = await run(client, depth, seconds * 1000);
        const us = (p: number) => (percentile(lat, p) * 1000).toFixed(0).padStart(8);
        console.log(
          `${engine.padEnd(6)}  ${String(depth).padStart(2)}  ${iops.toFixed(0).padStart(7)}  ${us(50)} ${us(90)} ${us(99)} ${us(99.9)}`,
        );
      }
      await client.stop();
      client.close();
    }
  } finally {
    if (qsd.pid !== undefined) process.kill(qsd.pid, 'SIGTERM');
    await new Promise((r) => qsd.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
