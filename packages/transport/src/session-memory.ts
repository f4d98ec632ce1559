/**
 * A back-end session's guest memory: the regions the front-end shared (SET_MEM_TABLE,
 * ADD_MEM_REG, REM_MEM_REG) and where their bytes sit in the session's WebAssembly.Memory,
 * which the ring core reads through its regions table.
 *
 * - A region that fits is mapped whole: the core translates its addresses directly (zero-copy,
 *   no work per chain).
 * - A region that does not fit (a guest larger than the memory, up to 2^53) is mapped on demand
 *   in windows: `windowBytes`-aligned pieces of the region mapped into free slots, each entered
 *   in the core's table as a small region. A window spans two window sizes, so any buffer up to
 *   `windowBytes` lies inside the window of its first byte. Windows used by a started ring's
 *   areas or by a chain in flight are pinned; the others are recycled, least recently used first.
 * - A table is a transaction: the whole new table is checked (slot limit, numbers, overlaps,
 *   file sizes, that it fits once the old one is gone) before anything is mapped; a refused
 *   table changes nothing. The new table is mapped beside the old one when there is room, else
 *   after the old one is released (once no chain is in flight), so a guest as large as the
 *   memory can send its table again.
 */
import type { MemoryRegion } from '@vhost-user/codec';
import type { GuestMemory } from '@vhost-user/vring';
import { MemoryError, type GuestRegion, type MappedRange, type MemorySpace } from './memory.js';
import { closeFds, native } from './native.js';

/** Regions end below 2^53 so every address is an exact double (the ring core's rule too). */
const ADDRESS_LIMIT = 2 ** 53;
/** Entries of the ring core's regions table (vring MAX_REGIONS). */
const CORE_TABLE_ENTRIES = 512;

export interface SessionMemoryOptions {
  space: MemorySpace;
  guest: GuestMemory;
  /** Regions a session may hold (GET_MAX_MEM_SLOTS); checked before anything is mapped. */
  maxRegions: number;
  /** Window size for regions mapped on demand (a power of two, at least a page). */
  windowBytes: number;
}

/** One region the front-end shared. */
interface Region {
  readonly guestAddr: number;
  readonly size: number;
  readonly userAddr: number;
  readonly mmapOffset: number;
  readonly description: MemoryRegion;
  /** Kept open while the region is windowed (windows are mapped from it); -1 once closed. */
  fd: number;
  /** Set when the region is mapped whole. */
  whole: MappedRange | undefined;
}

/** A piece of a windowed region mapped into the memory. */
export interface Window {
  readonly region: Region;
  readonly guestAddr: number;
  readonly size: number;
  readonly range: MappedRange;
  pins: number;
  lastUse: number;
}

export class SessionMemory {
  private regions: Region[] = [];
  private windows: Window[] = [];
  /** Ranges of a replaced table, released once no chain is in flight. */
  private retired: MappedRange[] = [];
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private tick = 0;
  /** Bumped when regions are replaced (ring areas must be translated again). */
  generation = 0;
  /** The core's table: whole regions, then windows. */
  private entries: GuestRegion[] = [];
  /** Set while a table replacement waits for chains in flight: rings start no new chain. */
  paused = false;

  /** Window size: the option, or less in a small memory (a window is at most 1/16 of it). */
  private readonly window: number;

  constructor(private readonly options: SessionMemoryOptions) {
    let window = options.windowBytes;
    while (window > options.space.pageSize && window * 16 > options.space.capacityBytes) window /= 2;
    this.window = window;
  }

  /** The core's table as regions with their memory offsets (whole regions, then windows). */
  get list(): readonly GuestRegion[] {
    return this.entries;
  }

  /** The regions as the front-end described them (guest address and size), in address order. */
  described(): { guestAddr: number; size: number }[] {
    return this.regions.map((r) => ({ guestAddr: r.guestAddr, size: r.size }));
  }

  get regionCount(): number {
    return this.regions.length;
  }

  /** Some region is mapped in windows (rings then map what their chains use before the core walks them). */
  get windowed(): boolean {
    return this.regions.some((r) => !r.whole);
  }

  /** Replaces the whole table (SET_MEM_TABLE). Takes ownership of `fds`. */
  async replace(descriptions: readonly MemoryRegion[], fds: readonly number[]): Promise<void> {
    let fresh: Region[];
    try {
      fresh = this.check(descriptions, fds, []);
    } catch (error) {
      closeFds(fds);
      throw error;
    }
    const oldRegions = this.regions;
    const oldWindows = this.windows;
    let beside: boolean;
    try {
      beside = this.mapWhole(fresh, false);
    } catch (error) {
      for (const r of fresh) closeFds([r.fd]);
      throw error;
    }
    if (!beside) {
      // No room beside the old table: no new chain starts until those in flight are returned,
      // then the old table goes first.
      this.paused = true;
      try {
        await this.idle();
      } finally {
        this.paused = false;
      }
      this.regions = [];
      this.windows = [];
      this.sync();
      for (const r of oldRegions) this.releaseRegion(r, true);
      for (const w of oldWindows) this.options.space.unmap(w.range);
      try {
        this.mapWhole(fresh, true);
      } catch (error) {
        for (const r of fresh) closeFds([r.fd]);
        this.generation++;
        throw error;
      }
    }
    this.regions = fresh;
    this.windows = [];
    this.generation++;
    this.sync();
    if (beside) {
      for (const r of oldRegions) this.releaseRegion(r, false);
      for (const w of oldWindows) this.retire(w.range);
    }
  }

  /** Adds one region (ADD_MEM_REG). Takes ownership of `fd`. */
  add(description: MemoryRegion, fd: number): void {
    let region: Region;
    try {
      [region] = this.check([description], [fd], this.regions) as [Region];
    } catch (error) {
      closeFds([fd]);
      throw error;
    }
    try {
      if (this.fits(region.size)) this.mapRegion(region);
    } catch (error) {
      if (!(error instanceof MemoryError && error.code === 'NO_SPACE')) {
        closeFds([region.fd]);
        throw error;
      }
    }
    if (region.whole) {
      closeFds([region.fd]);
      region.fd = -1;
    }
    this.regions = [...this.regions, region].sort((a, b) => a.guestAddr - b.guestAddr);
    this.sync();
  }

  /** Removes the region REM_MEM_REG names (guest address, size and user address must match). */
  remove(description: MemoryRegion): boolean {
    const gone = this.regions.filter(
      (r) =>
        BigInt(r.guestAddr) === description.guestAddress &&
        BigInt(r.size) === description.size &&
        BigInt(r.userAddr) === description.userAddress,
    );
    if (gone.length === 0) return false;
    this.regions = this.regions.filter((r) => !gone.includes(r));
    const windows = this.windows.filter((w) => gone.includes(w.region));
    this.windows = this.windows.filter((w) => !gone.includes(w.region));
    this.sync();
    for (const r of gone) this.releaseRegion(r, false);
    for (const w of windows) this.retire(w.range);
    return true;
  }

  /** Releases everything (the session ended). */
  clear(): void {
    const regions = this.regions;
    const windows = this.windows;
    this.regions = [];
    this.windows = [];
    this.sync();
    for (const r of regions) this.releaseRegion(r, true);
    for (const w of windows) this.options.space.unmap(w.range);
    for (const range of this.retired.splice(0)) this.options.space.unmap(range);
  }

  /** Guest-physical address of a front-end user address range, or -1. */
  guestOfUser(addr: number, length: number): number {
    for (const r of this.regions) {
      if (addr >= r.userAddr && addr - r.userAddr + length <= r.size) return r.guestAddr + (addr - r.userAddr);
    }
    return -1;
  }

  /**
   * Makes guest-physical [addr, addr+length) reachable by the core. Returns the window it lies
   * in (null inside a whole region). Throws BAD_REGION outside every region, NO_SPACE when no
   * window can be mapped now (every slot is pinned).
   */
  reach(addr: number, length: number): Window | null {
    const region = this.regions.find((r) => addr >= r.guestAddr && addr - r.guestAddr + length <= r.size);
    if (!region) throw new MemoryError('BAD_REGION', `guest range 0x${addr.toString(16)}+${length} is in no region`);
    if (region.whole) return null;
    const hit = this.windows.find((w) => addr >= w.guestAddr && addr - w.guestAddr + length <= w.size);
    if (hit) {
      hit.lastUse = ++this.tick;
      return hit;
    }
    const unit = this.window;
    const start = Math.max(region.guestAddr, Math.floor(addr / unit) * unit);
    const end = Math.min(
      region.guestAddr + region.size,
      Math.max(start + 2 * unit, Math.ceil((addr + length) / unit) * unit),
    );
    const window = this.mapWindow(region, start, end - start);
    this.sync();
    return window;
  }

  /** Memory offset of guest-physical [addr, addr+length) (mapping a window when needed), or -1. */
  offsetOf(addr: number, length: number): number {
    try {
      this.reach(addr, length);
    } catch {
      return -1;
    }
    for (const e of this.entries)
      if (addr >= e.guestAddr && addr - e.guestAddr + length <= e.size) return e.memOffset + (addr - e.guestAddr);
    return -1;
  }

  pin(window: Window | null): void {
    if (window) window.pins++;
  }

  unpin(window: Window | null): void {
    if (window && window.pins > 0) window.pins--;
  }

  /** Chains handed to devices and not returned yet, over every ring of the session. */
  get chainsInFlight(): number {
    return this.inFlight;
  }

  /** A chain was handed to the device. */
  begin(): void {
    this.inFlight++;
  }

  /** A chain was returned: when none is left, ranges of replaced tables are released. */
  end(): void {
    if (this.inFlight > 0) this.inFlight--;
    if (this.inFlight > 0) return;
    for (const range of this.retired.splice(0)) this.options.space.unmap(range);
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /** Forgets chains that will never be returned (rings stopped or reset). */
  abandonInFlight(): void {
    this.inFlight = 1;
    this.end();
  }

  private idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private retire(range: MappedRange): void {
    if (this.inFlight === 0) this.options.space.unmap(range);
    else this.retired.push(range);
  }

  /** Everything about a new table that can be known before mapping it. */
  private check(descriptions: readonly MemoryRegion[], fds: readonly number[], kept: readonly Region[]): Region[] {
    const { maxRegions } = this.options;
    if (kept.length + descriptions.length > maxRegions)
      throw new MemoryError(
        'TOO_MANY_REGIONS',
        `${kept.length + descriptions.length} regions exceed the ${maxRegions} memory slots this back-end offers`,
      );
    if (fds.length !== descriptions.length)
      throw new MemoryError('BAD_REGION', `${descriptions.length} regions came with ${fds.length} fds`);
    const fresh = descriptions.map((d, i): Region => {
      const [guestAddr, size, userAddr, mmapOffset] = [d.guestAddress, d.size, d.userAddress, d.mmapOffset].map(
        Number,
      ) as [number, number, number, number];
      if (
        d.size === 0n ||
        d.guestAddress + d.size > BigInt(ADDRESS_LIMIT) ||
        d.userAddress + d.size > BigInt(ADDRESS_LIMIT) ||
        d.mmapOffset + d.size > BigInt(ADDRESS_LIMIT)
      )
        throw new MemoryError(
          'BAD_REGION',
          `region ${i} (0x${d.guestAddress.toString(16)}+0x${d.size.toString(16)}) is empty or ends at or above 2^53`,
        );
      const fileSize = native.fstatSize(fds[i] as number);
      if (mmapOffset + size > fileSize)
        throw new MemoryError(
          'BAD_REGION',
          `region ${i} maps ${mmapOffset}+${size} of a ${fileSize}-byte file: past its end`,
        );
      return { guestAddr, size, userAddr, mmapOffset, description: d, fd: fds[i] as number, whole: undefined };
    });
    const all = [...kept, ...fresh].sort((a, b) => a.guestAddr - b.guestAddr);
    for (let i = 1; i < all.length; i++) {
      const a = all[i - 1] as Region;
      const b = all[i] as Region;
      if (a.guestAddr + a.size > b.guestAddr)
        throw new MemoryError(
          'OVERLAP',
          `guest range 0x${b.guestAddr.toString(16)}+0x${b.size.toString(16)} overlaps another region`,
        );
    }
    return fresh.sort((a, b) => a.guestAddr - b.guestAddr);
  }

  /** Whether a region of `size` bytes is mapped whole: it fits and leaves room for windows. */
  private fits(size: number): boolean {
    return this.pageRound(size) + 4 * this.window <= this.options.space.freeBytes;
  }

  /**
   * Maps whole the regions of a new table that fit (smallest first); the rest are windowed.
   * `alone`: the old table is gone. Returns false when, beside the old table, fewer regions fit
   * whole than would alone (then the caller releases the old table and calls again).
   */
  private mapWhole(fresh: Region[], alone: boolean): boolean {
    const capacity = this.options.space.capacityBytes - 4 * this.window;
    const planned = new Set<Region>();
    let used = 0;
    for (const r of [...fresh].sort((a, b) => a.size - b.size)) {
      const bytes = this.pageRound(r.size) + this.options.space.pageSize;
      if (used + bytes > capacity) continue;
      planned.add(r);
      used += bytes;
    }
    if (!alone && used + 4 * this.window > this.options.space.freeBytes) return false;
    const done: Region[] = [];
    try {
      for (const r of fresh) {
        if (!planned.has(r)) continue;
        this.mapRegion(r);
        done.push(r);
      }
    } catch (error) {
      for (const r of done) {
        this.options.space.unmap(r.whole as MappedRange);
        r.whole = undefined;
      }
      if (!alone && error instanceof MemoryError && error.code === 'NO_SPACE') return false;
      for (const r of fresh) closeFds([r.fd]);
      throw error;
    }
    for (const r of fresh) {
      if (!r.whole) continue;
      closeFds([r.fd]);
      r.fd = -1;
    }
    return true;
  }

  private mapRegion(region: Region): void {
    region.whole = this.options.space.mapFile(region.fd, region.mmapOffset, region.size);
  }

  private mapWindow(region: Region, guestAddr: number, size: number): Window {
    for (;;) {
      const full = this.windows.length + this.regions.filter((r) => r.whole).length >= CORE_TABLE_ENTRIES;
      if (!full) {
        try {
          const range = this.options.space.mapFile(region.fd, region.mmapOffset + (guestAddr - region.guestAddr), size);
          const window: Window = { region, guestAddr, size, range, pins: 0, lastUse: ++this.tick };
          this.windows.push(window);
          return window;
        } catch (error) {
          if (!(error instanceof MemoryError && error.code === 'NO_SPACE')) throw error;
        }
      }
      // Recycle the least recently used window nothing holds.
      let victim: Window | undefined;
      for (const w of this.windows) if (w.pins === 0 && (!victim || w.lastUse < victim.lastUse)) victim = w;
      if (!victim)
        throw new MemoryError('NO_SPACE', 'every window of guest memory is held by a ring or a chain in flight');
      this.windows = this.windows.filter((w) => w !== victim);
      this.sync();
      this.options.space.unmap(victim.range);
    }
  }

  /** `immediate`: the caller knows nothing is in flight on it. */
  private releaseRegion(region: Region, immediate: boolean): void {
    if (region.whole) {
      if (immediate) this.options.space.unmap(region.whole);
      else this.retire(region.whole);
      region.whole = undefined;
    }
    if (region.fd >= 0) closeFds([region.fd]);
    region.fd = -1;
  }

  /** Writes the core's regions table: whole regions first (the core tries region 0 first), then windows. */
  private sync(): void {
    const entries: GuestRegion[] = [];
    for (const r of this.regions)
      if (r.whole)
        entries.push({ guestAddr: r.guestAddr, size: r.size, userAddr: r.userAddr, memOffset: r.whole.memOffset });
    for (const w of this.windows)
      entries.push({
        guestAddr: w.guestAddr,
        size: w.size,
        userAddr: w.region.userAddr + (w.guestAddr - w.region.guestAddr),
        memOffset: w.range.memOffset,
      });
    this.entries = entries;
    this.options.guest.setRegions(entries.map((e) => ({ gpa: e.guestAddr, size: e.size, offset: e.memOffset })));
  }

  private pageRound(n: number): number {
    const page = this.options.space.pageSize;
    return Math.ceil(n / page) * page;
  }
}
