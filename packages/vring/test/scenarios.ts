// Random ring scenarios shared by the differential tests (differential.test.ts, fused.test.ts).
import fc from 'fast-check';
import { SPLIT_AVAIL, SPLIT_USED, SPLIT_USED_ELEM } from '@vhost-user/codec';
import type { RingLayout } from '@vhost-user/vring';
import {
  BUFFERS,
  GPA_BASE,
  REGION_SIZE,
  RING,
  writePackedDesc,
  writeSplitDesc,
  type RawDesc,
  type Setup,
} from './helpers.js';

export const OUTSIDE = GPA_BASE + REGION_SIZE;
export const TABLE_A = BUFFERS + 0x4000;
export const TABLE_B = BUFFERS + 0x5003; // unaligned on purpose
const ADDRS: (number | bigint)[] = [
  0,
  GPA_BASE - 8,
  GPA_BASE,
  BUFFERS,
  BUFFERS + 3,
  OUTSIDE - 16,
  OUTSIDE - 1,
  OUTSIDE,
  TABLE_A,
  TABLE_B,
  0xfffffffffffffff0n,
  2n ** 53n + BigInt(GPA_BASE),
  2n ** 32n + BigInt(GPA_BASE),
];
const LENS = [0, 1, 8, 15, 16, 32, 48, 96, 0x10000, 0xffffffff];
export const RUNS = Number(process.env.VRING_FUZZ_RUNS ?? 250);

export const arbDesc = (q: number) =>
  fc.record({
    addr: fc.oneof(
      { arbitrary: fc.constantFrom(...ADDRS), weight: 2 },
      { arbitrary: fc.constantFrom(BUFFERS, BUFFERS + 0x100, TABLE_A, TABLE_B), weight: 3 },
    ),
    len: fc.oneof(
      { arbitrary: fc.constantFrom(...LENS), weight: 1 },
      { arbitrary: fc.constantFrom(16, 32, 48), weight: 1 },
    ),
    // Low flag bits with every AVAIL/USED combination (packed ownership), sometimes any u16.
    flags: fc.oneof(
      {
        arbitrary: fc
          .tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 3 }))
          .map(([f, w]) => f | (w & 1 ? 0x80 : 0) | (w & 2 ? 0x8000 : 0)),
        weight: 5,
      },
      { arbitrary: fc.integer({ min: 0, max: 0xffff }), weight: 1 },
    ),
    next: fc.integer({ min: 0, max: q + 1 }),
    id: fc.integer({ min: 0, max: q + 1 }),
  });

export type Op = { kind: 'pop' | 'push' | 'reserve' | 'reclaim' | 'poke'; a: number; b: number; desc: RawDesc };
export const arbOps = (q: number) =>
  fc.array(
    fc.record({
      kind: fc.constantFrom('pop', 'push', 'reserve', 'reclaim', 'poke') as fc.Arbitrary<Op['kind']>,
      a: fc.integer({ min: 0, max: q + 2 }),
      b: fc.integer({ min: 0, max: 0xffff }),
      desc: arbDesc(q),
    }),
    { minLength: 1, maxLength: 24 },
  );

/**
 * A (possibly malicious) device writes a used entry chosen by `op` (split: an element at slot
 * `op.a` and used.idx moved by `op.b`, possibly past what was made available; packed: a
 * descriptor at slot `op.a`), for the driver-side fuzz of both engines.
 */
export function deviceWritesUsed(s: Setup, sc: Scenario, op: Op): void {
  const v = s.guest.view;
  if (sc.layout === 'split') {
    const used = s.at(RING.deviceArea);
    const slot = used + SPLIT_USED.ring + SPLIT_USED_ELEM.size * (op.a % sc.q);
    v.setUint32(slot, op.desc.id ?? 0, true);
    v.setUint32(slot + 4, op.desc.len, true);
    v.setUint16(used + SPLIT_USED.idx, (v.getUint16(used + SPLIT_USED.idx, true) + (op.b % (sc.q + 3))) & 0xffff, true);
  } else {
    writePackedDesc(s.guest, s.at(RING.desc) + 16 * (op.a % sc.q), op.desc);
  }
}

export interface Scenario {
  layout: RingLayout;
  q: number;
  indirect: boolean;
  base: number;
  ring: RawDesc[];
  ahead: number;
  /** 0: no regions (all rejected), 1: the one region, 2: split in halves plus a small region at GPA 0. */
  regions: number;
  tables: RawDesc[];
  heads: number[];
  ops: Op[];
}

export const arbScenario = (layout: RingLayout) =>
  fc.constantFrom(4, 8, 16).chain((q) =>
    fc.record({
      layout: fc.constant(layout),
      q: fc.constant(q),
      indirect: fc.boolean(),
      base: fc.integer({ min: 0, max: 0xffffffff }),
      ring: fc.array(arbDesc(q), { minLength: q, maxLength: q }),
      ahead: fc.integer({ min: 0, max: q + 1 }),
      regions: fc.constantFrom(1, 1, 2, 0),
      tables: fc.array(arbDesc(q), { minLength: 0, maxLength: 8 }),
      heads: fc.array(fc.integer({ min: 0, max: q + 1 }), { minLength: q, maxLength: q }),
      ops: arbOps(q),
    }),
  );

/** The VringBase.num the device starts from (packed: indices reduced below the queue size). */
export function baseOf(sc: Scenario): number {
  if (sc.layout === 'split') return sc.base & 0xffff;
  return ((sc.base & 0x80008000) | ((sc.base & 0x7fff) % sc.q) | ((((sc.base >>> 16) & 0x7fff) % sc.q) << 16)) >>> 0;
}

/** Lays the scenario's raw ring contents into guest memory. */
export function fill(s: Setup, sc: Scenario): void {
  const write = sc.layout === 'split' ? writeSplitDesc : writePackedDesc;
  // Packed: most descriptors are made available for the device's wrap counter, so chains get walked.
  const wrap = (sc.base >>> 15) & 1;
  const owned = (d: RawDesc): RawDesc =>
    sc.layout === 'packed' && (d.next ?? 0) % 4 !== 0
      ? { ...d, flags: (d.flags & 0x7f7f) | (wrap ? 0x80 : 0x8000) }
      : d;
  sc.ring.forEach((d, i) => write(s.guest, s.at(RING.desc) + 16 * i, owned(d)));
  sc.tables.forEach((d, i) => {
    write(s.guest, s.at(TABLE_A) + 16 * i, d);
    write(s.guest, s.at(TABLE_B) + 16 * i, d);
  });
  if (sc.layout === 'split') {
    sc.heads.forEach((h, i) => s.guest.view.setUint16(s.at(RING.driverArea) + SPLIT_AVAIL.ring + 2 * i, h, true));
  }
}

/** Replaces the regions table (guest memory can change under a running queue, e.g. SET_MEM_TABLE). */
export function remap(s: Setup, sc: Scenario): void {
  const half = REGION_SIZE / 2;
  const base = s.guest.scratchEnd;
  if (sc.regions === 0) s.guest.setRegions([]);
  if (sc.regions === 2) {
    s.guest.setRegions([
      { gpa: GPA_BASE + half, size: half, offset: base + half },
      { gpa: 0, size: 0x1000, offset: base + half },
      { gpa: GPA_BASE, size: half, offset: base },
    ]);
  }
}
