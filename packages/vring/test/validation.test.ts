import { describe, expect, it } from 'vitest';
import { SPLIT_USED, SPLIT_USED_ELEM } from '@vhost-user/codec';
import { REJECT, VirtqueueDevice, VirtqueueDriver, rejectName } from '@vhost-user/vring';
import {
  BUFFERS,
  ENGINES,
  GPA_BASE,
  P,
  REGION_SIZE,
  RING,
  S,
  chainsOf,
  packedAvailFlags,
  setup,
  splitOffer,
  writePackedDesc,
  writeSplitDesc,
  type RawDesc,
} from './helpers.js';

const OUTSIDE = GPA_BASE + REGION_SIZE; // first byte after the region
const TABLE = BUFFERS + 0x2000;

interface SplitCase {
  name: string;
  table: RawDesc[];
  indirect?: RawDesc[];
  head?: number;
  negotiated?: boolean;
  reason: number;
}

const R = (addr: number | bigint, len: number, flags = 0, next = 0): RawDesc => ({ addr, len, flags, next });

const splitCases: SplitCase[] = [
  { name: 'head index beyond the queue', table: [R(BUFFERS, 8)], head: 8, reason: REJECT.DESC_INDEX_OUT_OF_RANGE },
  { name: 'next index beyond the queue', table: [R(BUFFERS, 8, S.NEXT, 9)], reason: REJECT.DESC_INDEX_OUT_OF_RANGE },
  {
    name: 'a loop of two descriptors',
    table: [R(BUFFERS, 8, S.NEXT, 1), R(BUFFERS, 8, S.NEXT, 0)],
    reason: REJECT.CHAIN_TOO_LONG,
  },
  { name: 'a self loop', table: [R(BUFFERS, 8, S.NEXT | S.WRITE, 0)], reason: REJECT.CHAIN_TOO_LONG },
  { name: 'a buffer below the region', table: [R(GPA_BASE - 4, 8)], reason: REJECT.BUFFER_OUT_OF_BOUNDS },
  { name: 'a buffer crossing the region end', table: [R(OUTSIDE - 4, 8)], reason: REJECT.BUFFER_OUT_OF_BOUNDS },
  { name: 'a buffer at guest address 0 (unmapped)', table: [R(0, 1)], reason: REJECT.BUFFER_OUT_OF_BOUNDS },
  {
    name: 'addr + len overflowing 64 bits',
    table: [R(0xfffffffffffffff0n, 0x20)],
    reason: REJECT.BUFFER_OUT_OF_BOUNDS,
  },
  {
    name: 'an address at 2^53 + region offset',
    table: [R(2n ** 53n + BigInt(GPA_BASE), 8)],
    reason: REJECT.BUFFER_OUT_OF_BOUNDS,
  },
  { name: 'a length of 4 GiB - 1', table: [R(BUFFERS, 0xffffffff)], reason: REJECT.BUFFER_OUT_OF_BOUNDS },
  {
    name: 'readable after writable',
    table: [R(BUFFERS, 8, S.WRITE | S.NEXT, 1), R(BUFFERS, 8)],
    reason: REJECT.READABLE_AFTER_WRITABLE,
  },
  {
    name: 'INDIRECT without the feature',
    table: [R(TABLE, 16, S.INDIRECT)],
    negotiated: false,
    reason: REJECT.INDIRECT_NOT_NEGOTIATED,
  },
  {
    name: 'INDIRECT with NEXT',
    table: [R(TABLE, 16, S.INDIRECT | S.NEXT, 1), R(BUFFERS, 8)],
    reason: REJECT.INDIRECT_WITH_NEXT,
  },
  { name: 'an indirect table of 24 bytes', table: [R(TABLE, 24, S.INDIRECT)], reason: REJECT.INDIRECT_BAD_LENGTH },
  { name: 'an empty indirect table', table: [R(TABLE, 0, S.INDIRECT)], reason: REJECT.INDIRECT_BAD_LENGTH },
  {
    name: 'an indirect table outside memory',
    table: [R(OUTSIDE - 16, 32, S.INDIRECT)],
    reason: REJECT.INDIRECT_OUT_OF_BOUNDS,
  },
  {
    name: 'a nested indirect table',
    table: [R(TABLE, 32, S.INDIRECT)],
    indirect: [R(BUFFERS, 8, S.NEXT, 1), R(TABLE, 16, S.INDIRECT)],
    reason: REJECT.NESTED_INDIRECT,
  },
  {
    name: 'an indirect next beyond the table',
    table: [R(TABLE, 32, S.INDIRECT)],
    indirect: [R(BUFFERS, 8, S.NEXT, 2), R(BUFFERS, 8)],
    reason: REJECT.DESC_INDEX_OUT_OF_RANGE,
  },
  {
    name: 'a loop inside an indirect table',
    table: [R(TABLE, 32, S.INDIRECT)],
    indirect: [R(BUFFERS, 8, S.NEXT, 1), R(BUFFERS, 8, S.NEXT, 0)],
    reason: REJECT.CHAIN_TOO_LONG,
  },
  {
    name: 'an indirect entry out of bounds',
    table: [R(TABLE, 16, S.INDIRECT)],
    indirect: [R(OUTSIDE, 8)],
    reason: REJECT.BUFFER_OUT_OF_BOUNDS,
  },
];

describe.each(ENGINES)('split ring, %s engine: a device never trusts the driver', (engine) => {
  it.each(splitCases)('rejects $name', (c) => {
    const s = setup('split', engine, { indirect: c.negotiated ?? true });
    const device = new VirtqueueDevice(s.options);
    c.table.forEach((d, i) => writeSplitDesc(s.guest, s.at(RING.desc) + 16 * i, d));
    c.indirect?.forEach((d, i) => writeSplitDesc(s.guest, s.at(TABLE) + 16 * i, d));
    // The bad chain, then a good one: the device reports the first and still serves the second.
    writeSplitDesc(s.guest, s.at(RING.desc) + 16 * 7, R(BUFFERS, 8));
    splitOffer(s, [c.head ?? 0, 7]);
    expect(device.pop()).toBe(2);
    const [bad, good] = chainsOf(device, 2);
    expect(rejectName(bad!.reason)).toBe(rejectName(c.reason));
    expect(bad).toMatchObject({ id: c.head ?? 0, readable: 0, writable: 0, segments: [] });
    expect(good).toMatchObject({ id: 7, reason: 0, readable: 1 });
    expect(device.needsReset).toBe(true);
    expect(device.errors).toBe(1);
    expect(device.lastError).toBe(c.reason);
  });

  it('stops the queue when avail.idx runs more than the queue size ahead', () => {
    const s = setup('split', engine);
    const device = new VirtqueueDevice(s.options);
    splitOffer(s, [0]);
    s.guest.view.setUint16(s.at(RING.driverArea) + 2, 9, true);
    expect(device.pop()).toBe(0);
    expect(device.status).toBe(REJECT.AVAIL_INDEX_TOO_FAR);
    expect(device.needsReset).toBe(true);
    s.guest.view.setUint16(s.at(RING.driverArea) + 2, 1, true);
    expect(device.pop()).toBe(0); // stays stopped until reset
    device.setBase(0);
    writeSplitDesc(s.guest, s.at(RING.desc), R(BUFFERS, 8));
    expect(device.pop()).toBe(1);
  });

  it('drops used elements that name chains not in flight (driver side)', () => {
    const s = setup('split', engine);
    const driver = new VirtqueueDriver(s.options);
    expect(driver.reserve(1, 2)).toBe(1);
    driver.setSpec(0, BUFFERS, 8, 0);
    driver.setSpec(1, BUFFERS, 8, S.WRITE);
    driver.publish();
    const used = s.at(RING.deviceArea);
    const v = s.guest.view;
    const elem = (i: number, id: number) =>
      v.setUint32(used + SPLIT_USED.ring + SPLIT_USED_ELEM.size * i + SPLIT_USED_ELEM.id, id, true);
    elem(0, 1); // descriptor 1 is the chain's tail, not a head in flight
    elem(1, 300); // out of range
    elem(2, 0); // the real head
    elem(3, 0); // completed twice
    v.setUint16(used + SPLIT_USED.idx, 4, true);
    expect(driver.reclaim()).toBe(1);
    expect(driver.completions[0]).toBe(0);
    expect(driver.errors).toBe(3);
    expect(driver.freeDescriptors).toBe(8);
    v.setUint16(used + SPLIT_USED.idx, 200, true);
    expect(driver.reclaim()).toBe(0);
    expect(driver.status).toBe(REJECT.USED_INDEX_TOO_FAR);
  });
});

interface PackedCase {
  name: string;
  ring: RawDesc[];
  indirect?: RawDesc[];
  negotiated?: boolean;
  reason: number;
  /** Queue-level: the device stops instead of reporting one chain. */
  fatal?: boolean;
}

const A = packedAvailFlags(1);
const PD = (addr: number | bigint, len: number, flags = 0, id = 0): RawDesc => ({ addr, len, flags: flags | A, id });
const PI = (addr: number | bigint, len: number, flags = 0): RawDesc => ({ addr, len, flags });

const packedCases: PackedCase[] = [
  { name: 'a buffer id beyond the queue', ring: [PD(BUFFERS, 8, 0, 8)], reason: REJECT.BAD_BUFFER_ID },
  { name: 'a buffer crossing the region end', ring: [PD(OUTSIDE - 4, 8)], reason: REJECT.BUFFER_OUT_OF_BOUNDS },
  {
    name: 'addr + len overflowing 64 bits',
    ring: [PD(0xfffffffffffffff0n, 0x20)],
    reason: REJECT.BUFFER_OUT_OF_BOUNDS,
  },
  {
    name: 'readable after writable',
    ring: [PD(BUFFERS, 8, P.WRITE | P.NEXT), PD(BUFFERS, 8)],
    reason: REJECT.READABLE_AFTER_WRITABLE,
  },
  {
    name: 'INDIRECT without the feature',
    ring: [PD(TABLE, 16, P.INDIRECT)],
    negotiated: false,
    reason: REJECT.INDIRECT_NOT_NEGOTIATED,
  },
  {
    name: 'INDIRECT with NEXT',
    ring: [PD(TABLE, 16, P.INDIRECT | P.NEXT), PD(BUFFERS, 8)],
    reason: REJECT.INDIRECT_WITH_NEXT,
  },
  { name: 'an indirect table of 40 bytes', ring: [PD(TABLE, 40, P.INDIRECT)], reason: REJECT.INDIRECT_BAD_LENGTH },
  {
    name: 'an indirect table outside memory',
    ring: [PD(OUTSIDE - 16, 32, P.INDIRECT)],
    reason: REJECT.INDIRECT_OUT_OF_BOUNDS,
  },
  {
    name: 'a nested indirect table',
    ring: [PD(TABLE, 32, P.INDIRECT)],
    indirect: [PI(BUFFERS, 8), PI(TABLE, 16, P.INDIRECT)],
    reason: REJECT.NESTED_INDIRECT,
  },
  {
    name: 'an indirect table longer than the queue',
    ring: [PD(TABLE, 16 * 9, P.INDIRECT)],
    indirect: Array.from({ length: 9 }, () => PI(BUFFERS, 8)),
    reason: REJECT.CHAIN_TOO_LONG,
  },
  {
    name: 'an indirect entry out of bounds',
    ring: [PD(TABLE, 16, P.INDIRECT)],
    indirect: [PI(0, 8)],
    reason: REJECT.BUFFER_OUT_OF_BOUNDS,
  },
  {
    name: 'a chain whose next descriptor is not available',
    ring: [PD(BUFFERS, 8, P.NEXT), { addr: BUFFERS, len: 8, flags: 0 }],
    reason: REJECT.DESC_NOT_AVAILABLE,
    fatal: true,
  },
  {
    name: 'a chain running all around the ring',
    ring: Array.from({ length: 8 }, () => PD(BUFFERS, 8, P.NEXT)),
    reason: REJECT.CHAIN_TOO_LONG,
    fatal: true,
  },
];

describe.each(ENGINES)('packed ring, %s engine: a device never trusts the driver', (engine) => {
  it.each(packedCases)('rejects $name', (c) => {
    const s = setup('packed', engine, { indirect: c.negotiated ?? true });
    const device = new VirtqueueDevice(s.options);
    c.indirect?.forEach((d, i) => writePackedDesc(s.guest, s.at(TABLE) + 16 * i, d));
    // Good chains after the bad one (where they fit in the ring).
    const ring = [...c.ring];
    while (ring.length < 3) ring.push(PD(BUFFERS, 8, 0, 5));
    ring.forEach((d, i) => writePackedDesc(s.guest, s.at(RING.desc) + 16 * i, d));
    const popped = device.pop();
    if (c.fatal) {
      expect(popped).toBe(0);
      expect(rejectName(device.status)).toBe(rejectName(c.reason));
      expect(device.pop()).toBe(0);
    } else {
      const chains = chainsOf(device, popped);
      expect(rejectName(chains[0]!.reason)).toBe(rejectName(c.reason));
      expect(chains[0]!.segments).toEqual([]);
      expect(chains[0]!.ringSlots).toBe(c.ring.length);
      expect(chains.slice(1).every((g) => g.reason === 0 && g.id === 5)).toBe(true);
      expect(popped).toBe(1 + ring.length - c.ring.length);
      expect(device.status).toBe(0);
    }
    expect(device.needsReset).toBe(true);
    expect(device.lastError).toBe(c.reason);
  });

  it('ignores descriptors of the wrong wrap and used descriptors', () => {
    const s = setup('packed', engine);
    const device = new VirtqueueDevice(s.options);
    writePackedDesc(s.guest, s.at(RING.desc), { addr: BUFFERS, len: 8, flags: packedAvailFlags(0) });
    expect(device.pop()).toBe(0);
    writePackedDesc(s.guest, s.at(RING.desc), { addr: BUFFERS, len: 8, flags: packedAvailFlags(1) | P.WRITE | 0x8000 });
    expect(device.pop()).toBe(0);
    expect(device.needsReset).toBe(false);
  });

  it('stops the driver on a used descriptor whose id is not in flight', () => {
    const s = setup('packed', engine);
    const driver = new VirtqueueDriver(s.options);
    expect(driver.reserve(1, 1)).toBe(1);
    driver.setSpec(0, BUFFERS, 8, 0);
    driver.publish();
    writePackedDesc(s.guest, s.at(RING.desc), { addr: 0, len: 0, flags: 0x8080, id: 3 });
    expect(driver.reclaim()).toBe(0);
    expect(driver.status).toBe(REJECT.USED_ID_NOT_IN_FLIGHT);
  });
});
