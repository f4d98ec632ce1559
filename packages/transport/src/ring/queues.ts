/**
 * Ring data paths on @vhost-user/vring: its WebAssembly core (or its TypeScript path) pops and
 * pushes chains directly in the memory where guest RAM is mapped. This module adapts its batch
 * records to the chain-at-a-time view devices here use, and sizes ring areas.
 */
import { SPLIT_RING_AREAS } from '@vhost-user/codec';
import {
  CHAIN_RECORD,
  SEGMENT_RECORD,
  USED_RECORD,
  VirtqueueDevice,
  rejectName,
  type ChainHandler,
  type EngineName,
  type GuestMemory,
} from '@vhost-user/vring';

export type { EngineName };

export interface Segment {
  /** Offset in the memory (guest RAM is mapped there). */
  offset: number;
  length: number;
}

export interface Chain {
  /** Chain id to give back with push(). */
  head: number;
  /** Driver-to-device buffers, in order. */
  readable: Segment[];
  /** Device-to-driver buffers, in order. */
  writable: Segment[];
}

export class RingError extends Error {
  constructor(
    readonly reason: number,
    message: string,
  ) {
    super(message);
    this.name = 'RingError';
  }
}

/** Sizes and alignments of a split ring's three areas. */
export function splitRingFootprint(size: number): {
  desc: [number, number];
  avail: [number, number];
  used: [number, number];
} {
  const a = SPLIT_RING_AREAS;
  return {
    desc: [a.descriptorTable.size(size), a.descriptorTable.align],
    avail: [a.availableRing.size(size), a.availableRing.align],
    used: [a.usedRing.size(size), a.usedRing.align],
  };
}

const CHAIN_WORDS = CHAIN_RECORD.size >>> 2;
const SEGMENT_WORDS = SEGMENT_RECORD.size >>> 2;
const USED_WORDS = USED_RECORD.size >>> 2;

/** Device side, one chain at a time, over a vring VirtqueueDevice. */
export class DeviceRing {
  private readonly popped: Chain[] = [];
  private readonly slots = new Map<number, number>();
  private pendingUsed = 0;

  constructor(readonly queue: VirtqueueDevice) {}

  static create(
    memory: GuestMemory,
    options: {
      layout?: 'split' | 'packed';
      size: number;
      desc: number;
      avail: number;
      used: number;
      base: number;
      engine: EngineName;
      indirect: boolean;
      eventIdx: boolean;
    },
  ): DeviceRing {
    const queue = new VirtqueueDevice({
      memory,
      layout: options.layout ?? 'split',
      queueSize: options.size,
      desc: options.desc,
      driverArea: options.avail,
      deviceArea: options.used,
      engine: options.engine,
      indirect: options.indirect,
      eventIdx: options.eventIdx,
    });
    queue.setBase(options.base);
    return new DeviceRing(queue);
  }

  /** The next available chain, or null. Throws RingError on a chain the core rejected. */
  /** The next available chain, or null. `max`: take at most this many from the ring core now
   *  (it pops in batches); then the caller re-arms notifications with `rearm()` itself. Throws
   *  RingError on a chain the core rejected. */
  pop(max = Infinity): Chain | null {
    if (this.popped.length === 0) this.fill(max);
    if (this.popped.length === 0 && max === Infinity && this.rearm()) this.fill(max);
    return this.popped.shift() ?? null;
  }

  /** Drained: asks for the next kick (with EVENT_IDX avail_event moves on). Returns whether the
   *  driver made chains available meanwhile (take them now: no kick will come for them). */
  rearm(): boolean {
    return this.queue.enableNotify();
  }

  private fill(max: number): number {
    const q = this.queue;
    const n = q.pop(Math.min(max, q.batchSize));
    // A queue-level rejection (avail.idx too far ahead) pops nothing and stops the queue: it is
    // reported like a rejected chain, or the ring would stall silently.
    if (n === 0 && q.status !== 0)
      throw new RingError(q.status, `ring stopped by the ring core: ${rejectName(q.status) ?? `reason ${q.status}`}`);
    const chains = q.chains;
    const segs = q.segments;
    for (let i = 0; i < n; i++) {
      const r = i * CHAIN_WORDS;
      const id = chains[r + (CHAIN_RECORD.id >>> 2)] as number;
      const reason = chains[r + (CHAIN_RECORD.reason >>> 2)] as number;
      if (reason !== 0)
        throw new RingError(
          reason,
          `chain ${id} rejected by the ring core: ${rejectName(reason) ?? `reason ${reason}`}`,
        );
      const readable = chains[r + (CHAIN_RECORD.readable >>> 2)] as number;
      const writable = chains[r + (CHAIN_RECORD.writable >>> 2)] as number;
      const first = chains[r + (CHAIN_RECORD.firstSegment >>> 2)] as number;
      const segment = (k: number): Segment => {
        const s = (first + k) * SEGMENT_WORDS;
        return {
          offset: segs[s + (SEGMENT_RECORD.offset >>> 2)] as number,
          length: segs[s + (SEGMENT_RECORD.length >>> 2)] as number,
        };
      };
      const chain: Chain = { head: id, readable: [], writable: [] };
      for (let k = 0; k < readable; k++) chain.readable.push(segment(k));
      for (let k = 0; k < writable; k++) chain.writable.push(segment(readable + k));
      this.slots.set(id, chains[r + (CHAIN_RECORD.ringSlots >>> 2)] as number);
      this.popped.push(chain);
    }
    return n;
  }

  /** Returns a chain with the bytes written into it (published by flush()). */
  push(head: number, written: number): void {
    if (this.pendingUsed === this.queue.batchSize) this.flush();
    const u = this.queue.used;
    const r = this.pendingUsed * USED_WORDS;
    u[r + (USED_RECORD.id >>> 2)] = head;
    u[r + (USED_RECORD.length >>> 2)] = written;
    u[r + (USED_RECORD.ringSlots >>> 2)] = this.slots.get(head) ?? 1;
    this.slots.delete(head);
    this.pendingUsed++;
  }

  /** Publishes pushed chains: the used ring's index moves. */
  publish(): void {
    if (this.pendingUsed > 0) {
      this.queue.push(this.pendingUsed);
      this.pendingUsed = 0;
    }
  }

  /** Publishes pushed chains; returns whether the driver wants a notification. */
  flush(): boolean {
    this.publish();
    return this.queue.needsNotify();
  }

  /** Serves the available chains in one fused pass of the ring core (used elements pushed
   *  with push() are published first, so completions stay in order). */
  serve(handler: ChainHandler): number {
    this.publish();
    return this.queue.serve(handler);
  }

  /** The used ring's index as published. */
  get usedIndex(): number {
    return this.queue.usedIndex;
  }

  /** Pushes held before push() publishes on its own. */
  get batchLimit(): number {
    return this.queue.batchSize;
  }

  /** What GET_VRING_BASE reports. */
  get base(): number {
    return this.queue.getBase();
  }
}
