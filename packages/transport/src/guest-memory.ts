/**
 * The front-end's guest RAM: one memfd mapped into a MemorySpace (so a WebAssembly core works on
 * it in place), described to the back-end as one region, with a bump allocator for rings and
 * buffers. Guest-physical addresses start at `guestBase`.
 */
import { GuestMemory } from '@vhost-user/vring';
import { closeFds, native } from './native.js';
import { GuestRegions, MemorySpace, type MappedRange } from './memory.js';

export interface GuestMemoryOptions {
  /** Bytes of guest RAM (rounded up to pages). */
  size: number;
  /** Guest-physical address of the first byte. Default 0. */
  guestBase?: number;
  /** The "user address" announced for the region: only a key for the back-end. */
  userBase?: number;
}

export class FrontendGuestMemory {
  readonly fd: number;
  /** The ring core's memory (scratch arena, regions table); the RAM is mapped after the arena. */
  readonly guest: GuestMemory;
  readonly space: MemorySpace;
  readonly range: MappedRange;
  readonly regions = new GuestRegions();
  readonly size: number;
  readonly guestBase: number;
  readonly userBase: number;
  private next = 0;

  constructor(options: GuestMemoryOptions) {
    const pageSize = native.pageSize();
    this.size = Math.ceil(options.size / pageSize) * pageSize;
    this.guestBase = options.guestBase ?? 0;
    this.userBase = options.userBase ?? 0x7f00_0000_0000;
    this.guest = GuestMemory.create({ guestBytes: this.size });
    this.space = new MemorySpace({ memory: this.guest.memory, reservedBytes: this.guest.scratchEnd });
    this.fd = native.memfdCreate('vhost-user-guest', this.size);
    try {
      this.range = this.space.mapFile(this.fd, 0, this.size);
    } catch (error) {
      closeFds([this.fd]);
      throw error;
    }
    this.regions.add({
      guestAddr: this.guestBase,
      size: this.size,
      userAddr: this.userBase,
      memOffset: this.range.memOffset,
    });
    this.guest.setRegions([{ gpa: this.guestBase, size: this.size, offset: this.range.memOffset }]);
  }

  get bytes(): Uint8Array {
    return this.space.bytes;
  }

  /** Memory offset of a guest-physical address (throws if outside the RAM). */
  offsetOf(guestAddr: number, length = 1): number {
    const offset = this.regions.offsetOfGuest(guestAddr, length);
    if (offset < 0) throw new RangeError(`guest address 0x${guestAddr.toString(16)}+${length} is outside guest RAM`);
    return offset;
  }

  /** User address (the back-end's key) of a guest-physical address. */
  userAddrOf(guestAddr: number): number {
    return guestAddr - this.guestBase + this.userBase;
  }

  /** Reserves `length` bytes aligned to `align`; returns the guest-physical address. */
  allocate(length: number, align = 16): number {
    const start = Math.ceil(this.next / align) * align;
    if (start + length > this.size) throw new RangeError(`guest RAM exhausted (${length} bytes wanted)`);
    this.next = start + length;
    return this.guestBase + start;
  }

  /** A view of guest bytes [guestAddr, guestAddr+length). */
  view(guestAddr: number, length: number): Uint8Array {
    const offset = this.offsetOf(guestAddr, length);
    return this.space.bytes.subarray(offset, offset + length);
  }

  /** The region as SET_MEM_TABLE / ADD_MEM_REG describe it. */
  get memoryRegion(): { guestAddress: bigint; size: bigint; userAddress: bigint; mmapOffset: bigint } {
    return {
      guestAddress: BigInt(this.guestBase),
      size: BigInt(this.size),
      userAddress: BigInt(this.userBase),
      mmapOffset: 0n,
    };
  }

  close(): void {
    this.space.unmap(this.range);
    closeFds([this.fd]);
  }
}
