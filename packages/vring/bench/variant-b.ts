// Runs split-pingpong variant B: a driver and a device in two worker threads sharing one memory.
import { Worker } from 'node:worker_threads';
import { GuestMemory } from '@vhost-user/vring';
import type { Implementation } from './sides.mjs';
import { MEM_SIZE } from './workload.mjs';

const WORKER = new URL('./pingpong-worker.mjs', import.meta.url);

export interface VariantBResult {
  sum: number;
  hash: number;
  errors: number;
  seconds: number;
}

function runWorker(data: Record<string, unknown>): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { workerData: data });
    worker.once('message', (m: Record<string, number>) => resolve(m));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`pingpong worker exited with ${code}`));
    });
  });
}

export async function measureVariantB(impl: Implementation, total: number, warmup: number, module?: WebAssembly.Module): Promise<VariantBResult> {
  const guest = GuestMemory.create({ guestBytes: MEM_SIZE, scratchBytes: 1 << 20 });
  guest.setRegions([{ gpa: 0, size: MEM_SIZE, offset: guest.scratchEnd }]);
  const sync = new Int32Array(new SharedArrayBuffer(8));
  const common = { memory: guest.memory, sync, impl, module, total, warmup };
  const [driver, device] = await Promise.all([runWorker({ ...common, role: 'driver' }), runWorker({ ...common, role: 'device' })]);
  return {
    sum: driver.sum!,
    hash: driver.hash!,
    errors: driver.errors! + device.errors!,
    seconds: driver.seconds!,
  };
}
