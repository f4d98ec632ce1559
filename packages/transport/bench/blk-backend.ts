/**
 * IOPS of this package's vhost-user-blk back-end: the asynchronous device (thread-pool readv)
 * against the synchronous baseline (readSync on the event loop), with the same TS front-end
 * client in the same run. Rounds alternate between the two; medians are reported, and the ratio.
 * 4 KiB random reads from an image in the page cache; each back-end runs in its own process.
 */
import { spawn } from 'node:child_process';
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { VhostUserBlkClient } from '@vhost-user/transport';

const IMAGE_BYTES = 64 << 20;
const BLOCK = 4096;
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const SECONDS = Number(process.env.SECONDS ?? 2);
const here = fileURLToPath(new URL('.', import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

async function iops(client: VhostUserBlkClient, depth: number, ms: number): Promise<number> {
  let done = 0;
  const end = performance.now() + ms;
  const start = performance.now();
  const worker = async () => {
    while (performance.now() < end) {
      await client.read(Math.floor(Math.random() * (IMAGE_BYTES / BLOCK)) * BLOCK, BLOCK);
      done++;
    }
  };
  await Promise.all(Array.from({ length: depth }, worker));
  return done / ((performance.now() - start) / 1000);
}

async function round(mode: 'async' | 'sync', image: string, dir: string): Promise<Record<number, number>> {
  const socket = join(dir, `${mode}.sock`);
  const server = spawn(
    process.execPath,
    ['--conditions=@vhost-user/source', '--import', tsx, join(here, 'blk-backend-server.ts'), mode, image, socket],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    server.stdout.on('data', (d) => String(d).includes('ready') && resolve());
    server.once('exit', (code) => reject(new Error(`back-end exited (${code})`)));
  });
  try {
    const client = await VhostUserBlkClient.open(socket, { queueSize: 128 });
    await iops(client, 1, 200); // warm-up
    const out: Record<number, number> = {};
    for (const depth of [1, 32]) out[depth] = await iops(client, depth, SECONDS * 1000);
    client.close();
    return out;
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const dir = mkdtempSync(join(tmpdir(), 'vu-bench-backend-'));
const image = join(dir, 'disk.img');
const fd = openSync(image, 'w');
ftruncateSync(fd, IMAGE_BYTES);
closeSync(fd);
try {
  const results = { async: [] as Record<number, number>[], sync: [] as Record<number, number>[] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const mode of ['async', 'sync'] as const) {
      results[mode].push(await round(mode, image, dir));
      process.stderr.write(`round ${r + 1}/${ROUNDS} ${mode} done\n`);
    }
  }
  console.log(
    `4 KiB random reads, TS back-end, ${ROUNDS} alternating rounds of ${SECONDS} s, medians, Node ${process.version}`,
  );
  console.log('QD   async IOPS   sync IOPS   async/sync');
  for (const depth of [1, 32]) {
    const a = median(results.async.map((x) => x[depth] as number));
    const s = median(results.sync.map((x) => x[depth] as number));
    console.log(
      `${String(depth).padStart(2)}   ${a.toFixed(0).padStart(10)}  ${s.toFixed(0).padStart(10)}   ${(a / s).toFixed(2)}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
