/**
 * Guest memory: one linear WebAssembly.Memory holding, at its start, a scratch arena (the memory
 * header, the regions table, queue control blocks and batch arrays), and after it the guest
 * regions. A region maps a guest-physical range onto an offset of the linear memory; the
 * transport can mmap real guest memory over such a range. Guest bytes are never copied.
 */
import { MAX_REGIONS, MEMORY_HEADER, MEMORY_MAGIC, REGION_ENTRY } from './layout.js';
import { VringError } from './errors.js';

const PAGE = 65536;
const TWO_32 = 4294967296;
/** Regions end below 2^53 so the TypeScript path can hold every address in a double exactly. */
const ADDRESS_LIMIT = 2 ** 53;

export interface GuestRegion {
  /** Guest-physical address of the first byte. */
  gpa: number | bigint;
  /** Length in bytes. */
  size: number | bigint;
  /** Offset of the first byte in the linear memory (at or after `scratchEnd`). */
  offset: number;
}

export interface CreateGuestMemoryOptions {
  /** Bytes of linear memory for guest regions (after the scratch arena). */
  guestBytes: number;
  /** Bytes of the scratch arena (rounded up to whole 64 KiB pages); default 1 MiB. */
  scratchBytes?: number;
}

const toNumber = (value: number | bigint, what: string): number => {
  const n = typeof value === 'bigint' ? Number(value) : value;
  if (!Number.isSafeInteger(n) || n < 0)
    throw new VringError('INVALID_ARGUMENT', `${what} must be a non-negative safe integer`);
  return n;
};

export class GuestMemory {
  readonly memory: WebAssembly.Memory;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;
  readonly view: DataView;

  private constructor(memory: WebAssembly.Memory) {
    this.memory = memory;
    this.u8 = new Uint8Array(memory.buffer);
    this.u16 = new Uint16Array(memory.buffer);
    this.u32 = new Uint32Array(memory.buffer);
    this.view = new DataView(memory.buffer);
  }

  /** A new shared memory (initial == maximum, so it never grows and views stay valid). */
  static create(options: CreateGuestMemoryOptions): GuestMemory {
    const scratchBytes = Math.ceil((options.scratchBytes ?? 1 << 20) / PAGE) * PAGE;
    const pages = scratchBytes / PAGE + Math.ceil(options.guestBytes / PAGE);
    if (pages > 65536) throw new VringError('INVALID_ARGUMENT', 'memory larger than 4 GiB');
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    const guest = new GuestMemory(memory);
    const arena = MEMORY_HEADER.regions + MAX_REGIONS * REGION_ENTRY.size;
    guest.u32[MEMORY_HEADER.scratchNext >>> 2] = arena;
    guest.u32[MEMORY_HEADER.scratchEnd >>> 2] = scratchBytes;
    guest.u32[MEMORY_HEADER.regionCount >>> 2] = 0;
    guest.u32[MEMORY_HEADER.magic >>> 2] = MEMORY_MAGIC;
    return guest;
  }

  /** Wraps a memory made by `create` (for example one posted to a worker thread). */
  static attach(memory: WebAssembly.Memory): GuestMemory {
    if (!(memory.buffer instanceof SharedArrayBuffer))
      throw new VringError('INVALID_ARGUMENT', 'the memory must be shared');
    const guest = new GuestMemory(memory);
    if (guest.u32[MEMORY_HEADER.magic >>> 2] !== MEMORY_MAGIC)
      throw new VringError('INVALID_ARGUMENT', 'not a vring guest memory');
    return guest;
  }

  /** First linear offset available to guest regions. */
  get scratchEnd(): number {
    return this.u32[MEMORY_HEADER.scratchEnd >>> 2]!;
  }

  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** Offset of the memory header (the engines find the regions table through it). */
  get headerOffset(): number {
    return 0;
  }

  /** Replaces the regions table. Regions must lie after the scratch arena and inside the memory. */
  setRegions(regions: readonly GuestRegion[]): void {
    if (regions.length > MAX_REGIONS) throw new VringError('INVALID_ARGUMENT', `at most ${MAX_REGIONS} regions`);
    const checked = regions.map((r, i) => {
      const gpa = toNumber(r.gpa, `region ${i} gpa`);
      const size = toNumber(r.size, `region ${i} size`);
      const offset = toNumber(r.offset, `region ${i} offset`);
      if (gpa + size >= ADDRESS_LIMIT) throw new VringError('INVALID_ARGUMENT', `region ${i} must end below 2^53`);
      if (offset < this.scratchEnd || offset + size > this.byteLength) {
        throw new VringError('INVALID_ARGUMENT', `region ${i} must lie in [${this.scratchEnd}, ${this.byteLength})`);
      }
      return { gpa, size, offset };
    });
    this.u32[MEMORY_HEADER.regionCount >>> 2] = 0;
    checked.forEach((r, i) => {
      const e = (MEMORY_HEADER.regions + i * REGION_ENTRY.size) >>> 2;
      this.u32[e + (REGION_ENTRY.gpa >>> 2)] = r.gpa % TWO_32;
      this.u32[e + (REGION_ENTRY.gpa >>> 2) + 1] = Math.floor(r.gpa / TWO_32);
      this.u32[e + (REGION_ENTRY.length >>> 2)] = r.size % TWO_32;
      this.u32[e + (REGION_ENTRY.length >>> 2) + 1] = Math.floor(r.size / TWO_32);
      this.u32[e + (REGION_ENTRY.offset >>> 2)] = r.offset;
    });
    Atomics.store(this.u32, MEMORY_HEADER.regionCount >>> 2, checked.length);
  }

  /** The regions currently in the table. */
  regions(): GuestRegion[] {
    const count = this.u32[MEMORY_HEADER.regionCount >>> 2]!;
    const out: GuestRegion[] = [];
    for (let i = 0; i < count; i++) {
      const e = (MEMORY_HEADER.regions + i * REGION_ENTRY.size) >>> 2;
      out.push({
        gpa: this.u32[e + 1]! * TWO_32 + this.u32[e]!,
        size: this.u32[e + 3]! * TWO_32 + this.u32[e + 2]!,
        offset: this.u32[e + 4]!,
      });
    }
    return out;
  }

  /** Linear offset of [gpa, gpa + len) when inside one region, else -1. Same rule as the engines. */
  translate(gpa: number | bigint, len: number): number {
    const addr = typeof gpa === 'bigint' ? gpa : BigInt(gpa);
    for (const r of this.regions()) {
      const start = BigInt(r.gpa);
      const size = BigInt(r.size);
      if (addr >= start) {
        const delta = addr - start;
        if (delta <= size && BigInt(len) <= size - delta) return r.offset + Number(delta);
      }
    }
    return -1;
  }

  /** Allocates `bytes` of the scratch arena; atomic, so threads sharing the memory may all allocate. */
  allocate(bytes: number, align = 64): number {
    const at = MEMORY_HEADER.scratchNext >>> 2;
    for (;;) {
      const current = Atomics.load(this.u32, at);
      const start = Math.ceil(current / align) * align;
      const end = start + bytes;
      if (end > this.scratchEnd)
        throw new VringError('OUT_OF_SCRATCH', `scratch arena exhausted (${bytes} bytes wanted)`);
      if (Atomics.compareExchange(this.u32, at, current, end) === current) {
        this.u8.fill(0, start, end);
        return start;
      }
    }
  }
}
