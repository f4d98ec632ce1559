// The WebAssembly implementation of split-pingpong: bench/assembly/pingpong.ts, an AssemblyScript
// program linked with the core's library (wasm/lib), compiled at bench time. The guest memory
// and the queues come from the package's JavaScript API; the program gets their control blocks
// and runs the workload's loop (variant A: both sides in one instance; variant B: one side per
// worker thread), on a split or a packed ring.
import { fileURLToPath } from 'node:url';
import { compileLinked, compileLinkedBytes } from '../scripts/compile-linked.mjs';
import { BATCH, QUEUE_SIZE, queueOptions } from './workload.mjs';

const SOURCE = fileURLToPath(new URL('./assembly/pingpong.ts', import.meta.url));

/** The compiled program (compile once per run; modules can be posted to worker threads). */
export function linkedModule() {
  return compileLinked(SOURCE);
}

/** The program's bytes (for a benchmark process to load). */
export function linkedBytes() {
  return compileLinkedBytes(SOURCE);
}

/** One instance of the program on `guest`, with the driver side, the device side, or both. */
export class LinkedProgram {
  constructor(vring, guest, module, { layout = 'split', driver = false, device = false }) {
    this.exports = new WebAssembly.Instance(module, { env: { memory: guest.memory } }).exports;
    const packed = layout === 'packed' ? 1 : 0;
    if (driver) {
      this.driver = new vring.VirtqueueDriver(queueOptions(guest, layout, 'wasm', BATCH));
      this.exports.setupDriver(
        this.driver.control,
        guest.scratchEnd,
        guest.allocate(16 * QUEUE_SIZE),
        QUEUE_SIZE,
        packed,
      );
    }
    if (device) {
      this.device = new vring.VirtqueueDevice(queueOptions(guest, layout, 'wasm', BATCH));
      this.exports.setupDevice(this.device.control, QUEUE_SIZE, packed);
    }
  }

  runVariantA(total) {
    this.exports.runVariantA(total);
  }

  runDriver(total) {
    this.exports.runDriver(total);
  }

  runDevice(total) {
    this.exports.runDevice(total);
  }

  get sum() {
    return Number(this.exports.checksumSum());
  }

  get hash() {
    return this.exports.checksumHash() >>> 0;
  }

  /** Workload errors plus elements or chains the rings rejected, for the sides this instance has. */
  get totalErrors() {
    let errors = this.exports.driverErrors() + this.exports.deviceErrors();
    if (this.driver) errors += this.driver.errors;
    if (this.device) errors += this.device.errors;
    return errors;
  }
}
