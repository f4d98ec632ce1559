/**
 * A front-end's virtqueue: buffers in guest RAM are made available through vring's driver side
 * (WebAssembly core or TypeScript path), the back-end is kicked through the kick eventfd, and
 * used chains are reclaimed when the call eventfd fires.
 */
import { PACKED_RING_AREAS, SPLIT_RING } from '@vhost-user/codec';
import { RECLAIM_RECORD, VirtqueueDriver } from '@vhost-user/vring';
import type { StartedRing, VhostUserFrontend } from '../frontend.js';
import type { FrontendGuestMemory } from '../guest-memory.js';
import { splitRingFootprint, type EngineName } from './queues.js';

export interface DriverBuffer {
  guestAddr: number;
  length: number;
  /** The device writes into it. */
  writable: boolean;
}

interface Waiter {
  resolve: (written: number) => void;
  reject: (error: Error) => void;
}

export class DriverQueue {
  private readonly inFlight = new Map<number, Waiter>();
  private readonly backlog: { buffers: readonly DriverBuffer[]; waiter: Waiter }[] = [];

  private constructor(
    readonly index: number,
    readonly driver: VirtqueueDriver,
    readonly ring: StartedRing,
  ) {
    ring.call.watch(() => this.reclaim());
  }

  /** Lays the ring out in guest RAM, sets it up on the back-end and starts watching calls. The
   *  layout and EVENT_IDX must match the features acked with SET_FEATURES. */
  static async start(
    frontend: VhostUserFrontend,
    memory: FrontendGuestMemory,
    index: number,
    size: number,
    engine: EngineName = 'wasm',
    ring: { packed?: boolean; eventIdx?: boolean } = {},
  ): Promise<DriverQueue> {
    const a = ring.packed ? PACKED_RING_AREAS : undefined;
    const f = a
      ? {
          desc: [a.descriptorRing.size(size), a.descriptorRing.align],
          avail: [a.driverEvent.size(size), a.driverEvent.align],
          used: [a.deviceEvent.size(size), a.deviceEvent.align],
        }
      : splitRingFootprint(size);
    const descAddr = memory.allocate(f.desc[0] as number, Math.max(f.desc[1] as number, 4096));
    const availAddr = memory.allocate(f.avail[0] as number, f.avail[1] as number);
    const usedAddr = memory.allocate(f.used[0] as number, Math.max(f.used[1] as number, 4096));
    const driver = new VirtqueueDriver({
      memory: memory.guest,
      layout: ring.packed ? 'packed' : 'split',
      queueSize: size,
      desc: descAddr,
      driverArea: availAddr,
      deviceArea: usedAddr,
      engine,
      eventIdx: ring.eventIdx ?? false,
    });
    const started = await frontend.startRing(memory, { index, size, descAddr, availAddr, usedAddr });
    return new DriverQueue(index, driver, started);
  }

  /** Makes one chain available; resolves with the bytes the device wrote once it is used. */
  submit(buffers: readonly DriverBuffer[]): Promise<number> {
    return new Promise((resolve, reject) => {
      if (!this.publish(buffers, { resolve, reject })) this.backlog.push({ buffers, waiter: { resolve, reject } });
    });
  }

  private publish(buffers: readonly DriverBuffer[], waiter: Waiter): boolean {
    const q = this.driver;
    if (q.reserve(1, buffers.length) !== 1) return false;
    buffers.forEach((b, i) => q.setSpec(i, b.guestAddr, b.length, b.writable ? SPLIT_RING.VIRTQ_DESC_F_WRITE : 0));
    this.inFlight.set(q.chainIds[0] as number, waiter);
    q.publish();
    if (q.needsKick()) this.ring.kick.signal();
    return true;
  }

  /** Collects used chains (called on each call notification; harmless when nothing is used). */
  reclaim(): void {
    const q = this.driver;
    const words = RECLAIM_RECORD.size >>> 2;
    do {
      for (let n = q.reclaim(); n > 0; n = q.reclaim()) {
        for (let i = 0; i < n; i++) {
          const id = q.completions[i * words + (RECLAIM_RECORD.id >>> 2)] as number;
          const written = q.completions[i * words + (RECLAIM_RECORD.length >>> 2)] as number;
          const waiter = this.inFlight.get(id);
          this.inFlight.delete(id);
          waiter?.resolve(written);
        }
      }
      // Re-arm the notification (with EVENT_IDX: used_event moves on); completions that came
      // in meanwhile are collected now rather than waiting for a call that will not come.
    } while (q.enableInterrupts());
    while (
      this.backlog.length > 0 &&
      this.publish(
        (this.backlog[0] as { buffers: readonly DriverBuffer[] }).buffers,
        (this.backlog[0] as { waiter: Waiter }).waiter,
      )
    )
      this.backlog.shift();
  }

  get pending(): number {
    return this.inFlight.size;
  }

  /** Stops watching calls; pending chains fail. */
  close(reason = new Error('queue stopped')): void {
    this.ring.call.unwatch();
    for (const w of this.inFlight.values()) w.reject(reason);
    for (const b of this.backlog) b.waiter.reject(reason);
    this.inFlight.clear();
    this.backlog.length = 0;
  }
}
