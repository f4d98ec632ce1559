/**
 * Windowed guest memory (see session-memory.ts): before the ring core walks the chains a split
 * ring made available, this walks them in TypeScript and maps the windows their buffers and
 * indirect tables lie in, pinning those windows until the chain is returned. It only runs when
 * some region is windowed; it does not judge chains (the core does, with every rule), it stops
 * at anything odd and lets the core reject it.
 */
import { SPLIT_RING_AREAS } from '@vhost-user/codec';
import type { SessionMemory, Window } from '../session-memory.js';

/** Split descriptor: addr u64, len u32, flags u16, next u16 (virtio). */
const DESC_SIZE = 16;
const F_NEXT = 1;
const F_INDIRECT = 4;
/** Available ring: flags u16, idx u16, then the ring of u16 heads. */
const AVAIL_IDX = 2;
const AVAIL_RING = 4;

export interface SplitAreas {
  size: number;
  desc: number;
  avail: number;
}

/** Windows held by chains in flight on one ring, by head. */
export class ChainWindows {
  private readonly held = new Map<number, Window[]>();

  constructor(private readonly memory: SessionMemory) {}

  /**
   * Maps and pins the windows of the chains in [nextAvail, avail.idx). Throws MemoryError
   * NO_SPACE when windows are all held (the ring then waits for chains to come back).
   */
  reachAvailable(bytes: Uint8Array, ring: SplitAreas, nextAvail: number): void {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const avail = this.memory.offsetOf(ring.avail, SPLIT_RING_AREAS.availableRing.size(ring.size));
    const desc = this.memory.offsetOf(ring.desc, SPLIT_RING_AREAS.descriptorTable.size(ring.size));
    if (avail < 0 || desc < 0) return;
    const pending = (view.getUint16(avail + AVAIL_IDX, true) - nextAvail) & 0xffff;
    for (let i = 0; i < Math.min(pending, ring.size); i++) {
      const head = view.getUint16(avail + AVAIL_RING + 2 * ((nextAvail + i) % ring.size), true);
      if (this.held.has(head)) continue;
      const windows: Window[] = [];
      try {
        this.walk(view, desc, ring.size, head, windows);
      } catch (error) {
        for (const w of windows) this.memory.unpin(w);
        throw error;
      }
      this.held.set(head, windows);
    }
  }

  private walk(view: DataView, table: number, size: number, head: number, windows: Window[]): void {
    let base = table;
    let entries = size;
    let index = head;
    let inIndirect = false;
    for (let visited = 0; visited <= size && index < entries; visited++) {
      const d = base + index * DESC_SIZE;
      const addr = view.getUint32(d, true) + view.getUint32(d + 4, true) * 2 ** 32;
      const len = view.getUint32(d + 8, true);
      const flags = view.getUint16(d + 12, true);
      if (len > 0 && !this.hold(addr, len, windows)) return;
      if ((flags & F_INDIRECT) !== 0) {
        if (inIndirect || len % DESC_SIZE !== 0) return;
        base = this.memory.offsetOf(addr, len);
        entries = len / DESC_SIZE;
        index = 0;
        inIndirect = true;
        continue;
      }
      if ((flags & F_NEXT) === 0) return;
      index = view.getUint16(d + 14, true);
    }
  }

  /** Reaches and pins [addr, addr+len); false when it is in no region (the core rejects it). */
  private hold(addr: number, len: number, windows: Window[]): boolean {
    let window: Window | null;
    try {
      window = this.memory.reach(addr, len);
    } catch (error) {
      if ((error as { code?: string }).code === 'NO_SPACE') throw error;
      return false;
    }
    if (window) {
      this.memory.pin(window);
      windows.push(window);
    }
    return true;
  }

  /** The chain at `head` was returned: its windows may be recycled. */
  release(head: number): void {
    for (const w of this.held.get(head) ?? []) this.memory.unpin(w);
    this.held.delete(head);
  }

  releaseAll(): void {
    for (const head of [...this.held.keys()]) this.release(head);
  }
}
