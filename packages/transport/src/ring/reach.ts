/**
 * Windowed guest memory (see session-memory.ts): before the ring core walks the chains a split
 * or packed ring made available, this walks them in TypeScript and maps the windows their buffers and
 * indirect tables lie in, pinning those windows until the chain is returned. It only runs when
 * some region is windowed; it does not judge chains (the core does, with every rule), it stops
 * at anything odd and lets the core reject it.
 */
import { PACKED_RING_AREAS, SPLIT_RING_AREAS } from '@vhost-user/codec';
import type { SessionMemory, Window } from '../session-memory.js';

/** Split descriptor: addr u64, len u32, flags u16, next u16 (virtio). */
const DESC_SIZE = 16;
const F_NEXT = 1;
const F_INDIRECT = 4;
/** Packed descriptor: addr u64, len u32, id u16, flags u16; AVAIL and USED flag bits (virtio). */
const PACKED_ID = 12;
const PACKED_FLAGS = 14;
const F_AVAIL = 1 << 7;
const F_USED = 1 << 15;
/** Available ring: flags u16, idx u16, then the ring of u16 heads. */
const AVAIL_IDX = 2;
const AVAIL_RING = 4;

export interface SplitAreas {
  size: number;
  desc: number;
  avail: number;
}

/** Chains ready for the core from the next available one; `complete`: all available ones. */
export interface Reached {
  ready: number;
  complete: boolean;
}

/** Windows held by chains in flight on one ring, by head. */
export class ChainWindows {
  private readonly held = new Map<number, Window[]>();

  constructor(private readonly memory: SessionMemory) {}

  /**
   * Maps and pins the windows of the chains in [nextAvail, avail.idx). Returns how many chains,
   * from nextAvail on, are ready for the core; fewer than available when every free window is
   * held by chains in flight (the ring then continues when one comes back).
   */
  reachAvailable(bytes: Uint8Array, ring: SplitAreas, nextAvail: number): Reached {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const avail = this.memory.offsetOf(ring.avail, SPLIT_RING_AREAS.availableRing.size(ring.size));
    const desc = this.memory.offsetOf(ring.desc, SPLIT_RING_AREAS.descriptorTable.size(ring.size));
    if (avail < 0 || desc < 0) return { ready: ring.size, complete: true }; // the core reports it
    const pending = Math.min((view.getUint16(avail + AVAIL_IDX, true) - nextAvail) & 0xffff, ring.size);
    for (let i = 0; i < pending; i++) {
      const head = view.getUint16(avail + AVAIL_RING + 2 * ((nextAvail + i) % ring.size), true);
      if (this.held.has(head)) continue;
      const windows: Window[] = [];
      try {
        this.walk(view, desc, ring.size, head, windows);
      } catch (error) {
        for (const w of windows) this.memory.unpin(w);
        if ((error as { code?: string }).code === 'NO_SPACE') return { ready: i, complete: false };
        throw error;
      }
      this.held.set(head, windows);
    }
    return { ready: pending, complete: true };
  }

  /**
   * The same for a packed ring, from slot `nextAvail` with the driver's wrap counter `wrap`:
   * chains are the available descriptors in ring order, keyed by the buffer id of their last.
   */
  reachAvailablePacked(
    bytes: Uint8Array,
    ring: { size: number; desc: number },
    nextAvail: number,
    wrap: number,
  ): Reached {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const desc = this.memory.offsetOf(ring.desc, PACKED_RING_AREAS.descriptorRing.size(ring.size));
    if (desc < 0) return { ready: ring.size, complete: true };
    let slot = nextAvail;
    let w = wrap;
    let ready = 0;
    for (let visited = 0; visited < ring.size; ready++) {
      const first = view.getUint16(desc + slot * DESC_SIZE + PACKED_FLAGS, true);
      if (((first & F_AVAIL) !== 0 ? 1 : 0) !== w || ((first & F_USED) !== 0 ? 1 : 0) === w) break;
      const windows: Window[] = [];
      let id = -1;
      try {
        while (visited < ring.size) {
          const d = desc + slot * DESC_SIZE;
          const addr = view.getUint32(d, true) + view.getUint32(d + 4, true) * 2 ** 32;
          const len = view.getUint32(d + 8, true);
          const flags = view.getUint16(d + PACKED_FLAGS, true);
          visited++;
          slot++;
          if (slot === ring.size) {
            slot = 0;
            w ^= 1;
          }
          if (len > 0 && this.hold(addr, len, windows) && (flags & F_INDIRECT) !== 0 && len % DESC_SIZE === 0) {
            const table = this.memory.offsetOf(addr, len);
            for (let e = 0; table >= 0 && e < len / DESC_SIZE; e++) {
              const t = table + e * DESC_SIZE;
              const tlen = view.getUint32(t + 8, true);
              const taddr = view.getUint32(t, true) + view.getUint32(t + 4, true) * 2 ** 32;
              if (tlen > 0 && !this.hold(taddr, tlen, windows)) break;
            }
          }
          if ((flags & F_NEXT) === 0) {
            id = view.getUint16(d + PACKED_ID, true);
            break;
          }
        }
      } catch (error) {
        for (const win of windows) this.memory.unpin(win);
        if ((error as { code?: string }).code === 'NO_SPACE') return { ready, complete: false };
        throw error;
      }
      if (id < 0 || this.held.has(id)) {
        for (const win of windows) this.memory.unpin(win);
        if (id < 0) break;
        continue;
      }
      this.held.set(id, windows);
    }
    return { ready, complete: true };
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
