// One side of split-pingpong variant B in a worker thread (driver or device), on the built
// package (dist/): worker threads cannot load TypeScript on Node 20.
// workerData: { memory, sync (Int32Array over a SharedArrayBuffer), role, layout, engine, total, warmup }
import { parentPort, workerData } from 'node:worker_threads';
import * as vring from '../dist/index.js';
import { PingpongDevice, PingpongDriver } from './workload.mjs';

const { memory, sync, role, layout, engine, total, warmup } = workerData;
const DRIVER_READY = 0;
const DEVICE_READY = 1;
const guest = vring.GuestMemory.attach(memory);

function waitFor(slot, value) {
  while (Atomics.load(sync, slot) < value) Atomics.wait(sync, slot, Atomics.load(sync, slot), 50);
}

function runDriver(phase, n) {
  // The driver owns the rings: it (re)initialises them, then lets the device attach.
  const driver = new PingpongDriver(vring, guest, layout, engine);
  Atomics.store(sync, DRIVER_READY, phase);
  Atomics.notify(sync, DRIVER_READY);
  waitFor(DEVICE_READY, phase);
  const start = process.hrtime.bigint();
  while (driver.completed < n) {
    driver.reclaim();
    if (driver.submitted < n) driver.submit(n);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { sum: driver.sum, hash: driver.hash, errors: driver.totalErrors, seconds };
}

function runDevice(phase, n) {
  waitFor(DRIVER_READY, phase);
  const device = new PingpongDevice(vring, guest, layout, engine, 128);
  Atomics.store(sync, DEVICE_READY, phase);
  Atomics.notify(sync, DEVICE_READY);
  while (device.served < n) device.pass();
  return { errors: device.errors + device.queue.errors };
}

const run = role === 'driver' ? runDriver : runDevice;
if (warmup > 0) run(1, warmup);
parentPort.postMessage(run(2, total));
