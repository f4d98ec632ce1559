import { PACKED_DESC, PACKED_RING, SPLIT_AVAIL, SPLIT_DESC, SPLIT_RING } from '@vhost-user/codec';
import {
  GuestMemory,
  VirtqueueDevice,
  VirtqueueDriver,
  type EngineName,
  type QueueOptions,
  type RingLayout,
} from '@vhost-user/vring';

export const ENGINES: readonly EngineName[] = ['wasm', 'ts'];
export const LAYOUTS: readonly RingLayout[] = ['split', 'packed'];

/** Guest-physical layout used by the tests: one region of 1 MiB at GPA_BASE (GPA 0 is outside). */
export const GPA_BASE = 0x100000;
export const REGION_SIZE = 1 << 20;
export const RING = { desc: GPA_BASE, driverArea: GPA_BASE + 0x1000, deviceArea: GPA_BASE + 0x2000 };
export const BUFFERS = GPA_BASE + 0x10000;

export interface Setup {
  guest: GuestMemory;
  options: QueueOptions;
  /** Linear offset of a guest-physical address. */
  at(gpa: number): number;
}

export function setup(layout: RingLayout, engine: EngineName, extra: Partial<QueueOptions> = {}): Setup {
  const guest = GuestMemory.create({ guestBytes: REGION_SIZE, scratchBytes: 1 << 20 });
  guest.setRegions([{ gpa: GPA_BASE, size: REGION_SIZE, offset: guest.scratchEnd }]);
  const options: QueueOptions = { memory: guest, layout, engine, queueSize: 8, batch: 16, ...RING, ...extra };
  return { guest, options, at: (gpa) => guest.scratchEnd + (gpa - GPA_BASE) };
}

export function pair(s: Setup): { driver: VirtqueueDriver; device: VirtqueueDevice } {
  return { driver: new VirtqueueDriver(s.options), device: new VirtqueueDevice(s.options) };
}

export interface RawDesc {
  addr: bigint | number;
  len: number;
  flags: number;
  /** Split: next index. Packed: buffer id. */
  next?: number;
  id?: number;
}

/** Writes a split descriptor at a guest-physical address (table entry or indirect entry). */
export function writeSplitDesc(guest: GuestMemory, at: number, d: RawDesc): void {
  const v = guest.view;
  v.setBigUint64(at + SPLIT_DESC.addr, BigInt(d.addr), true);
  v.setUint32(at + SPLIT_DESC.len, d.len, true);
  v.setUint16(at + SPLIT_DESC.flags, d.flags, true);
  v.setUint16(at + SPLIT_DESC.next, d.next ?? 0, true);
}

/** Writes a packed descriptor (linear offset). */
export function writePackedDesc(guest: GuestMemory, at: number, d: RawDesc): void {
  const v = guest.view;
  v.setBigUint64(at + PACKED_DESC.addr, BigInt(d.addr), true);
  v.setUint32(at + PACKED_DESC.len, d.len, true);
  v.setUint16(at + PACKED_DESC.id, d.id ?? 0, true);
  v.setUint16(at + PACKED_DESC.flags, d.flags, true);
}

/** Makes heads available on a split ring written by hand (no driver object). */
export function splitOffer(s: Setup, heads: number[], startIdx = 0): void {
  const avail = s.at(RING.driverArea);
  heads.forEach((h, i) =>
    s.guest.view.setUint16(avail + SPLIT_AVAIL.ring + 2 * ((startIdx + i) % s.options.queueSize), h, true),
  );
  s.guest.view.setUint16(avail + SPLIT_AVAIL.idx, (startIdx + heads.length) & 0xffff, true);
}

/** Packed AVAIL/USED bits of a descriptor made available with wrap counter `wrap`. */
export function packedAvailFlags(wrap: number): number {
  return wrap ? PACKED_RING.VIRTQ_DESC_F_AVAIL : PACKED_RING.VIRTQ_DESC_F_USED;
}

export const S = {
  NEXT: SPLIT_RING.VIRTQ_DESC_F_NEXT,
  WRITE: SPLIT_RING.VIRTQ_DESC_F_WRITE,
  INDIRECT: SPLIT_RING.VIRTQ_DESC_F_INDIRECT,
};
export const P = {
  NEXT: PACKED_RING.VIRTQ_DESC_F_NEXT,
  WRITE: PACKED_RING.VIRTQ_DESC_F_WRITE,
  INDIRECT: PACKED_RING.VIRTQ_DESC_F_INDIRECT,
};

/** The chain records a device produced by its last pop, as plain objects (for assertions). */
export function chainsOf(device: VirtqueueDevice, count: number) {
  const out = [];
  for (let i = 0; i < count; i++) {
    const r = i * 8;
    const c = device.chains;
    const first = c[r + 4]!;
    const segments = [];
    for (let k = 0; k < c[r + 2]! + c[r + 3]!; k++) {
      segments.push({ offset: device.segments[2 * (first + k)]!, length: device.segments[2 * (first + k) + 1]! });
    }
    out.push({
      id: c[r]!,
      reason: c[r + 1]!,
      readable: c[r + 2]!,
      writable: c[r + 3]!,
      ringSlots: c[r + 5]!,
      segments,
    });
  }
  return out;
}
