// Types of workload.mjs (kept as plain JavaScript for worker threads).
import type * as vring from '../src/index.js';
type Vring = typeof vring;
type Layout = vring.RingLayout;
type EngineName = vring.EngineName;

export declare const QUEUE_SIZE: number;
export declare const MEM_SIZE: number;
export declare const BATCH: number;
export declare const AREAS: { desc: number; driverArea: number; deviceArea: number };
export declare function createGuest(v: Vring): vring.GuestMemory;
export declare function queueOptions(
  guest: vring.GuestMemory,
  layout: Layout,
  engine: EngineName,
  batch: number,
): vring.QueueOptions;
export declare class PingpongDriver {
  constructor(v: Vring, guest: vring.GuestMemory, layout: Layout, engine: EngineName, batch?: number);
  readonly queue: vring.VirtqueueDriver;
  submitted: number;
  completed: number;
  sum: number;
  hash: number;
  errors: number;
  submit(total: number): number;
  reclaim(): number;
  readonly totalErrors: number;
}
export declare class PingpongDevice {
  constructor(v: Vring, guest: vring.GuestMemory, layout: Layout, engine: EngineName, batch?: number);
  readonly queue: vring.VirtqueueDevice;
  served: number;
  errors: number;
  pass(): number;
}
export declare function runVariantA(driver: PingpongDriver, device: PingpongDevice, total: number): void;
export interface Checksum {
  sum: number;
  hash: number;
  errors: number;
  seconds: number;
  /** Variant A: CPU seconds of the process during the timed run (user + system). */
  cpuSeconds?: number;
}
