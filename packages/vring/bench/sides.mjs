// Which code runs each side of split-pingpong. An implementation is { layout, engine, api }:
//   api 'linked': the AssemblyScript program on the core's library (bench/linked.mjs; split, wasm)
//   api 'fused':  the JavaScript API's fused calls serve / submit / reclaimFold (workload.mjs)
//   api 'batch':  the JavaScript API's batch calls popCompact / pushCompact, reserve / publish / reclaim
import { LinkedProgram } from './linked.mjs';
import { FusedDevice, FusedDriver, PingpongDevice, PingpongDriver, QUEUE_SIZE, createGuest, runVariantA } from './workload.mjs';

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

/** Runs variant A on a fresh memory and queues; returns the checksum and the seconds taken. */
export function measureVariantA(vring, impl, total, module) {
  const guest = createGuest(vring);
  if (impl.api === 'linked') {
    const program = new LinkedProgram(vring, guest, module, { driver: true, device: true });
    const start = process.hrtime.bigint();
    program.runVariantA(total);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return { sum: program.sum, hash: program.hash, errors: program.totalErrors, seconds };
  }
  const driver = createDriver(vring, guest, impl);
  const device = createDevice(vring, guest, impl);
  const start = process.hrtime.bigint();
  runVariantA(driver, device, total);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { sum: driver.sum, hash: driver.hash, errors: driver.totalErrors + device.totalErrors, seconds };
}
