// Which code runs each side of split-pingpong. An implementation is { layout, engine, api }:
//   api 'linked': the AssemblyScript program on the core's library (bench/linked.mjs; wasm)
//   api 'fused':  the JavaScript API's fused calls serve / submit / reclaimFold (workload.mjs)
//   api 'batch':  the JavaScript API's batch calls popCompact / pushCompact, reserve / publish / reclaim
import { Worker } from 'node:worker_threads';
import { LinkedProgram } from './linked.mjs';
import {
  FusedDevice,
  FusedDriver,
  MEM_SIZE,
  PingpongDevice,
  PingpongDriver,
  QUEUE_SIZE,
  createGuest,
  runVariantA,
} from './workload.mjs';

/** A JavaScript driver side ('fused' or 'batch'). */
export function createDriver(vring, guest, impl) {
  if (impl.api === 'fused') return new FusedDriver(vring, guest, impl.layout, impl.engine);
  return new PingpongDriver(vring, guest, impl.layout, impl.engine);
}

/** A JavaScript device side; `batch`: records per pop of the batch device (variant A: a whole ring). */
export function createDevice(vring, guest, impl, batch = QUEUE_SIZE) {
  if (impl.api === 'fused') return new FusedDevice(vring, guest, impl.layout, impl.engine);
  return new PingpongDevice(vring, guest, impl.layout, impl.engine, batch);
}

/**
 * Runs `run` and returns the wall-clock seconds (the workload's figure) and the CPU seconds of
 * this process (user + system, all threads; on a shared machine the wall clock also counts the
 * time other processes held the core, the CPU time does not).
 */
function timed(run) {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  return { seconds, cpuSeconds: (used.user + used.system) / 1e6 };
}

/**
 * Runs variant A on new queues over `guest` (default: a new memory); returns the checksum and
 * the seconds taken. A warm-up and the timed run share one memory, as one process would.
 */
export function measureVariantA(vring, impl, total, module, guest = createGuest(vring)) {
  if (impl.api === 'linked') {
    const program = new LinkedProgram(vring, guest, module, { layout: impl.layout, driver: true, device: true });
    const { seconds, cpuSeconds } = timed(() => program.runVariantA(total));
    return { sum: program.sum, hash: program.hash, errors: program.totalErrors, seconds, cpuSeconds };
  }
  const driver = createDriver(vring, guest, impl);
  const device = createDevice(vring, guest, impl);
  const { seconds, cpuSeconds } = timed(() => runVariantA(driver, device, total));
  return { sum: driver.sum, hash: driver.hash, errors: driver.totalErrors + device.totalErrors, seconds, cpuSeconds };
}

const WORKER = new URL('./pingpong-worker.mjs', import.meta.url);

function runWorker(data) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { workerData: data });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`pingpong worker exited with ${code}`));
    });
  });
}

/**
 * Runs variant B: a driver and a device in two worker threads sharing one memory (the workers
 * load the built package, dist/). Each worker runs `warmup` chains first, then the timed run.
 */
export async function measureVariantB(vring, impl, total, warmup, module) {
  const guest = vring.GuestMemory.create({ guestBytes: MEM_SIZE, scratchBytes: 1 << 20 });
  guest.setRegions([{ gpa: 0, size: MEM_SIZE, offset: guest.scratchEnd }]);
  const sync = new Int32Array(new SharedArrayBuffer(8));
  const common = { memory: guest.memory, sync, impl, module, total, warmup };
  const [driver, device] = await Promise.all([
    runWorker({ ...common, role: 'driver' }),
    runWorker({ ...common, role: 'device' }),
  ]);
  return { sum: driver.sum, hash: driver.hash, errors: driver.errors + device.errors, seconds: driver.seconds };
}
