/**
 * Guest memory inside one WebAssembly.Memory: file ranges (memfd regions, ours or a peer's) are
 * mapped with MAP_FIXED over page-aligned slots of a shared memory created at its full size, so
 * the WebAssembly ring core and TypeScript views work on guest RAM directly, with no copies.
 */
import { native } from './native.js';

const WASM_PAGE = 65536;

export class MemoryError extends Error {
  constructor(
    readonly code: 'NO_SPACE' | 'NOT_MAPPED' | 'BAD_REGION' | 'OVERLAP' | 'FAULT' | 'TOO_MANY_REGIONS',
    message: string,
  ) {
    super(message);
    this.name = 'MemoryError';
  }
}

export interface MappedRange {
  /** Offset in the memory of the first mapped page. */
  readonly slotOffset: number;
  readonly slotLength: number;
  /** Offset in the memory of the requested file offset (slotOffset + in-page delta). */
  readonly memOffset: number;
}

export interface MemorySpaceOptions {
  /** Bytes of the memory (rounded up to 64 KiB); it never grows. Default 1 GiB. */
  bytes?: number;
  /** Low bytes left to the WebAssembly core (its stack, tables, data). Default 1 MiB. */
  reservedBytes?: number;
  /** Use this memory (shared, initial == maximum) instead of creating one. */
  memory?: WebAssembly.Memory;
}

/** A shared WebAssembly.Memory with a page allocator for mapped slots. */
export class MemorySpace {
  readonly memory: WebAssembly.Memory;
  /** A view over the whole memory (it never grows, so the view never goes stale). */
  readonly bytes: Uint8Array;
  readonly pageSize = native.pageSize();
  /** Free [start, end) ranges, sorted. */
  private free: [number, number][];
  private readonly mapped = new Map<number, MappedRange>();
  private readonly reserved: number;

  constructor(options: MemorySpaceOptions = {}) {
    if (options.memory) {
      this.memory = options.memory;
    } else {
      const pages = Math.ceil((options.bytes ?? 1 << 30) / WASM_PAGE);
      this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    }
    this.bytes = new Uint8Array(this.memory.buffer);
    const reserved = roundUp(options.reservedBytes ?? 1 << 20, this.pageSize);
    if (reserved >= this.bytes.length) throw new MemoryError('NO_SPACE', 'the reserved area covers the whole memory');
    this.reserved = reserved;
    this.free = [[reserved, this.bytes.length]];
  }

  /** Maps `length` bytes of `fd` from `fileOffset` (any alignment) into a fresh slot. Refused
   *  (EOVERFLOW) when the file is smaller than what is asked: never SIGBUS later. */
  mapFile(fd: number, fileOffset: number, length: number, writable = true): MappedRange {
    if (!Number.isSafeInteger(fileOffset) || !Number.isSafeInteger(length) || fileOffset < 0 || length <= 0) {
      throw new MemoryError('BAD_REGION', `bad file range ${fileOffset}+${length}`);
    }
    const delta = fileOffset % this.pageSize;
    const slotLength = roundUp(length + delta, this.pageSize);
    // The rounded-up tail page must be backed too; require the whole page range within the file.
    const fileSize = native.fstatSize(fd);
    if (fileOffset + length > fileSize) {
      throw Object.assign(
        new MemoryError(
          'BAD_REGION',
          `region ${fileOffset}+${length} lies past the end of its file (${fileSize} bytes)`,
        ),
        { code: 'EOVERFLOW' },
      );
    }
    const mapLength = Math.min(slotLength, roundUp(fileSize - (fileOffset - delta), this.pageSize));
    const slotOffset = this.allocate(slotLength);
    try {
      native.mapInto(this.bytes, slotOffset, mapLength, fd, fileOffset - delta, writable);
    } catch (error) {
      this.release(slotOffset, slotLength);
      throw error;
    }
    const range: MappedRange = { slotOffset, slotLength, memOffset: slotOffset + delta };
    this.mapped.set(slotOffset, range);
    return range;
  }

  /** Unmaps a slot: zeroed anonymous pages come back and the slot is free again. */
  unmap(range: MappedRange): void {
    if (this.mapped.get(range.slotOffset) !== range)
      throw new MemoryError('NOT_MAPPED', `no mapping at ${range.slotOffset}`);
    native.unmapFrom(this.bytes, range.slotOffset, range.slotLength);
    this.mapped.delete(range.slotOffset);
    this.release(range.slotOffset, range.slotLength);
  }

  /** Unmaps everything (before the memory is dropped). */
  unmapAll(): void {
    for (const range of [...this.mapped.values()]) this.unmap(range);
  }

  /** Bytes slots can use (the memory less the reserved area). */
  get capacityBytes(): number {
    return this.bytes.length - this.reserved;
  }

  /** Bytes not mapped now (possibly in several free ranges). */
  get freeBytes(): number {
    return this.free.reduce((n, [start, end]) => n + end - start, 0);
  }

  get mappedRanges(): readonly MappedRange[] {
    return [...this.mapped.values()];
  }

  private allocate(length: number): number {
    for (let i = 0; i < this.free.length; i++) {
      const [start, end] = this.free[i] as [number, number];
      if (end - start < length) continue;
      if (end - start === length) this.free.splice(i, 1);
      else this.free[i] = [start + length, end];
      return start;
    }
    throw new MemoryError('NO_SPACE', `no free ${length}-byte slot in a ${this.bytes.length}-byte memory`);
  }

  private release(start: number, length: number): void {
    this.free.push([start, start + length]);
    this.free.sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    for (const r of this.free) {
      const last = merged[merged.length - 1];
      if (last && last[1] === r[0]) last[1] = r[1];
      else merged.push([r[0], r[1]]);
    }
    this.free = merged;
  }
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/** One guest memory region as vhost-user describes it, and where it lives in the memory. */
export interface GuestRegion {
  readonly guestAddr: number;
  readonly size: number;
  /** The front-end's "user address": a key for ring addresses (pitfall: not a real pointer). */
  readonly userAddr: number;
  /** Offset in the memory of the region's first byte. */
  readonly memOffset: number;
}

/** Translates guest-physical and front-end user addresses to offsets in the memory. */
export class GuestRegions {
  private regions: GuestRegion[] = [];
  /** Bumped on every change (ring cores re-read the table when it moves). */
  generation = 0;

  get list(): readonly GuestRegion[] {
    return this.regions;
  }

  add(region: GuestRegion): void {
    for (const r of this.regions) {
      if (region.guestAddr < r.guestAddr + r.size && r.guestAddr < region.guestAddr + region.size) {
        throw new MemoryError(
          'OVERLAP',
          `guest range 0x${region.guestAddr.toString(16)}+0x${region.size.toString(16)} overlaps a region`,
        );
      }
    }
    this.regions = [...this.regions, region].sort((a, b) => a.guestAddr - b.guestAddr);
    this.generation++;
  }

  remove(predicate: (region: GuestRegion) => boolean): GuestRegion[] {
    const removed = this.regions.filter(predicate);
    this.regions = this.regions.filter((r) => !predicate(r));
    this.generation++;
    return removed;
  }

  clear(): GuestRegion[] {
    return this.remove(() => true);
  }

  /** Memory offset of guest-physical [addr, addr+length), or -1 if it is not inside one region. */
  offsetOfGuest(addr: number, length: number): number {
    for (const r of this.regions) {
      if (addr >= r.guestAddr && addr - r.guestAddr + length <= r.size) return r.memOffset + (addr - r.guestAddr);
    }
    return -1;
  }

  /** Memory offset of a front-end user address range, or -1. */
  offsetOfUser(addr: number, length: number): number {
    for (const r of this.regions) {
      if (addr >= r.userAddr && addr - r.userAddr + length <= r.size) return r.memOffset + (addr - r.userAddr);
    }
    return -1;
  }

  /** Guest-physical address of a user address (ring addresses to the ring core's address space). */
  guestOfUser(addr: number, length: number): number {
    for (const r of this.regions) {
      if (addr >= r.userAddr && addr - r.userAddr + length <= r.size) return r.guestAddr + (addr - r.userAddr);
    }
    return -1;
  }
}
