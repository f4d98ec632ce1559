// One side of split-pingpong variant B in a worker thread (driver or device), on the built
// package (dist/): worker threads cannot load TypeScript on Node 20.
// workerData: { memory, sync (Int32Array over a SharedArrayBuffer), role, impl, module, total, warmup }
import { parentPort, workerData } from 'node:worker_threads';
import * as vring from '../dist/index.js';
import { LinkedProgram } from './linked.mjs';
import { createDevice, createDriver } from './sides.mjs';

const { memory, sync, role, impl, module, total, warmup } = workerData;
const DRIVER_READY = 0;
const DEVICE_READY = 1;
const guest = vring.GuestMemory.attach(memory);
const linked = impl.api === 'linked';

function waitFor(slot, value) {
  while (Atomics.load(sync, slot) < value) Atomics.wait(sync, slot, Atomics.load(sync, slot), 50);
}

function runDriver(phase, n) {
  // The driver owns the rings: it (re)initialises them, then lets the device attach.
  const driver = linked
    ? new LinkedProgram(vring, guest, module, { layout: impl.layout, driver: true })
    : createDriver(vring, guest, impl);
  Atomics.store(sync, DRIVER_READY, phase);
  Atomics.notify(sync, DRIVER_READY);
  waitFor(DEVICE_READY, phase);
  const start = process.hrtime.bigint();
  if (linked) {
    driver.runDriver(n);
  } else {
    while (driver.completed < n) {
      driver.reclaim();
      if (driver.submitted < n) driver.submit(n);
    }
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { sum: driver.sum, hash: driver.hash, errors: driver.totalErrors, seconds };
}

function runDevice(phase, n) {
  waitFor(DRIVER_READY, phase);
  const device = linked
    ? new LinkedProgram(vring, guest, module, { layout: impl.layout, device: true })
    : createDevice(vring, guest, impl, 128);
  Atomics.store(sync, DEVICE_READY, phase);
  Atomics.notify(sync, DEVICE_READY);
  if (linked) device.runDevice(n);
  else while (device.served < n) device.pass();
  return { errors: device.totalErrors };
}

const run = role === 'driver' ? runDriver : runDevice;
if (warmup > 0) run(1, warmup);
parentPort.postMessage(run(2, total));
