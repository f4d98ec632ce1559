/**
 * A back-end session's side of inflight tracking: the shared buffer (allocated for
 * GET_INFLIGHT_FD, mapped from SET_INFLIGHT_FD), its per-queue regions, and the wrapper that
 * records every fetch and completion of a device queue in its region.
 */
import type { Inflight } from '@vhost-user/codec';
import { native } from './native.js';
import type { Chain } from './ring/queues.js';
import {
  InflightError,
  PackedInflightRegion,
  SplitInflightRegion,
  inflightBufferBytes,
  inflightRegionBytes,
} from './inflight.js';

/** The shared buffer: one region per queue. */
export class InflightBuffer {
  private closed = false;

  private constructor(
    private readonly buffer: ArrayBuffer,
    readonly numQueues: number,
    readonly queueSize: number,
    readonly packed: boolean,
  ) {}

  /**
   * GET_INFLIGHT_FD: a zeroed memfd sized for the request. Returns the completed description and
   * the fd to send (the caller closes it after sending; the mapping stays).
   */
  static allocate(request: Inflight, packed: boolean): { buffer: InflightBuffer; description: Inflight; fd: number } {
    const { numQueues, queueSize } = request;
    if (numQueues < 1) throw new InflightError('GET_INFLIGHT_FD asks for 0 queues');
    inflightRegionBytes(queueSize, packed); // checks the queue size
    const size = inflightBufferBytes(numQueues, queueSize, packed);
    const fd = native.memfdCreate('vhost-user-inflight', size);
    try {
      const buffer = new InflightBuffer(native.mmap(fd, 0, size, true), numQueues, queueSize, packed);
      return { buffer, fd, description: { mmapSize: BigInt(size), mmapOffset: 0n, numQueues, queueSize } };
    } catch (error) {
      native.close(fd);
      throw error;
    }
  }

  /** SET_INFLIGHT_FD: maps the buffer the front-end kept. The fd may be closed afterwards. */
  static map(description: Inflight, fd: number, packed: boolean): InflightBuffer {
    const { numQueues, queueSize } = description;
    const size = Number(description.mmapSize);
    const offset = Number(description.mmapOffset);
    if (!Number.isSafeInteger(size) || !Number.isSafeInteger(offset))
      throw new InflightError('inflight buffer size or offset out of range');
    if (numQueues < 1) throw new InflightError('SET_INFLIGHT_FD describes 0 queues');
    const needed = inflightBufferBytes(numQueues, queueSize, packed);
    if (size < needed)
      throw new InflightError(
        `inflight buffer of ${size} bytes is smaller than ${numQueues} regions (${needed} bytes)`,
      );
    return new InflightBuffer(native.mmap(fd, offset, size, true), numQueues, queueSize, packed);
  }

  private regionOffset(queue: number): number {
    if (this.closed) throw new InflightError('the inflight buffer was released');
    if (queue < 0 || queue >= this.numQueues)
      throw new InflightError(`queue ${queue} has no inflight region (${this.numQueues} queues)`);
    return queue * inflightRegionBytes(this.queueSize, this.packed);
  }

  splitRegion(queue: number): SplitInflightRegion {
    if (this.packed) throw new InflightError('the inflight buffer holds packed regions');
    return new SplitInflightRegion(this.buffer, this.regionOffset(queue), this.queueSize);
  }

  packedRegion(queue: number): PackedInflightRegion {
    if (!this.packed) throw new InflightError('the inflight buffer holds split regions');
    return new PackedInflightRegion(this.buffer, this.regionOffset(queue), this.queueSize);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    native.munmap(this.buffer);
  }
}

/** What the tracker needs of a ring: the DeviceRing's calls and the used ring's index. */
export interface TrackedRing {
  pop(): Chain | null;
  push(head: number, written: number): void;
  /** Publishes what was pushed (the used ring's index moves). */
  publish(): void;
  /** The used ring's index as the driver sees it. */
  readonly usedIndex: number;
  /** Pushes the ring holds before it publishes on its own. */
  readonly batchLimit: number;
}

/**
 * Records a split ring's requests in its region: resubmitted chains first, then the ring's;
 * every completion batch is linked before it is published and cleared after.
 */
export class SplitInflightTracker {
  private readonly batch: number[] = [];

  constructor(
    readonly region: SplitInflightRegion,
    private readonly resubmit: Chain[],
  ) {}

  /** Chains taken over from the previous back-end, not yet handed to the device. */
  get pendingResubmits(): number {
    return this.resubmit.length;
  }

  pop(ring: TrackedRing): Chain | null {
    const again = this.resubmit.shift();
    if (again) return again; // still marked in flight from before the restart
    const chain = ring.pop();
    if (chain) this.region.fetched(chain.head);
    return chain;
  }

  push(ring: TrackedRing, head: number, written: number): void {
    if (this.batch.length >= ring.batchLimit) this.complete(ring);
    this.batch.push(head);
    ring.push(head, written);
  }

  /** Links, publishes and clears the batch pushed since the last call. */
  complete(ring: TrackedRing): void {
    if (this.batch.length === 0) return;
    this.region.linkBatch(this.batch);
    ring.publish();
    this.region.finishBatch(this.batch, ring.usedIndex);
    this.batch.length = 0;
  }
}
