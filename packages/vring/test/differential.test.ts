// Differential fuzz: random ring contents and operations must give identical results from the
// WebAssembly core and the TypeScript path: return values, chain and segment records, rejection
// reasons, control blocks, and every byte of memory.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SPLIT_AVAIL, SPLIT_USED, SPLIT_USED_ELEM } from '@vhost-user/codec';
import { REJECT, VirtqueueDevice, VirtqueueDriver, type EngineName, type RingLayout } from '@vhost-user/vring';
import { BUFFERS, GPA_BASE, REGION_SIZE, RING, setup, writePackedDesc, writeSplitDesc, type RawDesc, type Setup } from './helpers.js';

const OUTSIDE = GPA_BASE + REGION_SIZE;
const TABLE_A = BUFFERS + 0x4000;
const TABLE_B = BUFFERS + 0x5003; // unaligned on purpose
const ADDRS: (number | bigint)[] = [
  0, GPA_BASE - 8, GPA_BASE, BUFFERS, BUFFERS + 3, OUTSIDE - 16, OUTSIDE - 1, OUTSIDE, TABLE_A, TABLE_B,
  0xfffffffffffffff0n, 2n ** 53n + BigInt(GPA_BASE), 2n ** 32n + BigInt(GPA_BASE),
];
const LENS = [0, 1, 8, 15, 16, 32, 48, 96, 0x10000, 0xffffffff];
const RUNS = Number(process.env.VRING_FUZZ_RUNS ?? 250);

const arbDesc = (q: number) =>
  fc.record({
    addr: fc.oneof({ arbitrary: fc.constantFrom(...ADDRS), weight: 2 }, { arbitrary: fc.constantFrom(BUFFERS, BUFFERS + 0x100, TABLE_A, TABLE_B), weight: 3 }),
    len: fc.oneof({ arbitrary: fc.constantFrom(...LENS), weight: 1 }, { arbitrary: fc.constantFrom(16, 32, 48), weight: 1 }),
    // Low flag bits with every AVAIL/USED combination (packed ownership), sometimes any u16.
    flags: fc.oneof(
      { arbitrary: fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 3 })).map(([f, w]) => f | (w & 1 ? 0x80 : 0) | (w & 2 ? 0x8000 : 0)), weight: 5 },
      { arbitrary: fc.integer({ min: 0, max: 0xffff }), weight: 1 },
    ),
    next: fc.integer({ min: 0, max: q + 1 }),
    id: fc.integer({ min: 0, max: q + 1 }),
  });

type Op = { kind: 'pop' | 'push' | 'reserve' | 'reclaim' | 'poke'; a: number; b: number; desc: RawDesc };
const arbOps = (q: number) =>
  fc.array(
    fc.record({
      kind: fc.constantFrom('pop', 'push', 'reserve', 'reclaim', 'poke') as fc.Arbitrary<Op['kind']>,
      a: fc.integer({ min: 0, max: q + 2 }),
      b: fc.integer({ min: 0, max: 0xffff }),
      desc: arbDesc(q),
    }),
    { minLength: 1, maxLength: 24 },
  );

interface Scenario {
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

const arbScenario = (layout: RingLayout) =>
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
function baseOf(sc: Scenario): number {
  if (sc.layout === 'split') return sc.base & 0xffff;
  return ((sc.base & 0x80008000) | ((sc.base & 0x7fff) % sc.q) | ((((sc.base >>> 16) & 0x7fff) % sc.q) << 16)) >>> 0;
}

/** Lays the scenario's raw ring contents into guest memory. */
function fill(s: Setup, sc: Scenario): void {
  const write = sc.layout === 'split' ? writeSplitDesc : writePackedDesc;
  // Packed: most descriptors are made available for the device's wrap counter, so chains get walked.
  const wrap = (sc.base >>> 15) & 1;
  const owned = (d: RawDesc): RawDesc =>
    sc.layout === 'packed' && (d.next ?? 0) % 4 !== 0 ? { ...d, flags: (d.flags & 0x7f7f) | (wrap ? 0x80 : 0x8000) } : d;
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
function remap(s: Setup, sc: Scenario): void {
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

/** Runs a scenario on one engine; returns a transcript of every result. */
function runDevice(sc: Scenario, engine: EngineName): { log: unknown[]; memory: Uint8Array } {
  const s = setup(sc.layout, engine, { queueSize: sc.q, indirect: sc.indirect, batch: 8, segments: sc.q });
  const device = new VirtqueueDevice(s.options);
  fill(s, sc);
  const base = baseOf(sc);
  device.setBase(base);
  remap(s, sc);
  const availIdx = s.at(RING.driverArea) + SPLIT_AVAIL.idx;
  if (sc.layout === 'split') s.guest.view.setUint16(availIdx, base + sc.ahead, true);
  const log: unknown[] = [];
  for (const op of sc.ops) {
    if (op.kind === 'pop' && (op.b & 1) === 1) {
      // The compact fast path: same validation, COMPACT_RECORDs instead of chain + segment records.
      const n = device.popCompact(op.a);
      log.push(['pop', n, Array.from(device.records.subarray(0, 8 * n))]);
    } else if (op.kind === 'pop') {
      const n = device.pop(op.a);
      log.push(['pop', n, Array.from(device.chains.subarray(0, 8 * n)), Array.from(device.segments)]);
    } else if (op.kind === 'push' && (op.b & 16) !== 0) {
      const n = Math.min(op.a, 8);
      for (let i = 0; i < n; i++) device.records[8 * i + 7] = op.desc.len + i;
      log.push(['pushCompact', device.pushCompact(n)]);
    } else if (op.kind === 'push') {
      const n = Math.min(op.a, 8);
      for (let i = 0; i < n; i++) device.used.set([(op.b + i) % (sc.q + 1), op.desc.len, (op.b >> (i % 8)) % (sc.q + 2), 0], 4 * i);
      log.push(['push', device.push(n)]);
    } else if (op.kind === 'poke') {
      // The driver keeps writing: new ring contents and a moving avail index.
      const write = sc.layout === 'split' ? writeSplitDesc : writePackedDesc;
      write(s.guest, s.at(RING.desc) + 16 * (op.a % sc.q), op.desc);
      if (sc.layout === 'split') {
        const idx = op.b % 8 === 0 ? op.b : s.guest.view.getUint16(availIdx, true) + (op.b % 3);
        s.guest.view.setUint16(availIdx, idx, true);
      }
    }
    log.push(['state', device.status, device.errors, device.lastError, device.needsReset, device.getBase()]);
  }
  return { log, memory: new Uint8Array(s.guest.memory.buffer.slice(0)) };
}

function runDriver(sc: Scenario, engine: EngineName): { log: unknown[]; memory: Uint8Array } {
  const s = setup(sc.layout, engine, { queueSize: sc.q, indirect: sc.indirect, batch: 8, segments: 2 * sc.q });
  const driver = new VirtqueueDriver(s.options);
  remap(s, sc);
  const log: unknown[] = [];
  for (const op of sc.ops) {
    if (op.kind === 'reserve' || op.kind === 'pop') {
      const got = driver.reserve(1 + (op.a % 4), 1 + (op.b % 3));
      log.push(['reserve', got, Array.from(driver.chainIds), Array.from(driver.descriptors)]);
    } else if (op.kind === 'push') {
      for (let p = 0; p < driver.specs.length / 4; p++) driver.setSpec(p, BigInt.asUintN(64, BigInt(op.desc.addr) + BigInt(p)), op.desc.len, op.desc.flags + p);
      log.push(['publish', driver.publish()]);
    } else if (op.kind === 'reclaim') {
      const n = driver.reclaim(op.a);
      log.push(['reclaim', n, Array.from(driver.completions.subarray(0, 2 * n))]);
    } else {
      // A (possibly malicious) device writes used entries.
      const v = s.guest.view;
      if (sc.layout === 'split') {
        const used = s.at(RING.deviceArea);
        v.setUint32(used + SPLIT_USED.ring + SPLIT_USED_ELEM.size * (op.a % sc.q), op.desc.id ?? 0, true);
        v.setUint32(used + SPLIT_USED.ring + SPLIT_USED_ELEM.size * (op.a % sc.q) + 4, op.desc.len, true);
        v.setUint16(used + SPLIT_USED.idx, (v.getUint16(used + SPLIT_USED.idx, true) + (op.b % (sc.q + 3))) & 0xffff, true);
      } else {
        writePackedDesc(s.guest, s.at(RING.desc) + 16 * (op.a % sc.q), op.desc);
      }
    }
    log.push(['state', driver.status, driver.errors, driver.lastError, driver.freeDescriptors, driver.reservedChains]);
  }
  return { log, memory: new Uint8Array(s.guest.memory.buffer.slice(0)) };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

describe.each(['split', 'packed'] as const)('%s ring: WebAssembly core and TypeScript path agree', (layout) => {
  it('device side, on random ring contents and operations', () => {
    fc.assert(
      fc.property(arbScenario(layout), (sc) => {
        const wasm = runDevice(sc, 'wasm');
        const ts = runDevice(sc, 'ts');
        expect(wasm.log).toEqual(ts.log);
        expect(sameBytes(wasm.memory, ts.memory)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('driver side, against a device writing random used entries', () => {
    fc.assert(
      fc.property(arbScenario(layout), (sc) => {
        const wasm = runDriver(sc, 'wasm');
        const ts = runDriver(sc, 'ts');
        expect(wasm.log).toEqual(ts.log);
        expect(sameBytes(wasm.memory, ts.memory)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('the fuzz reaches rejections and accepted chains alike', () => {
    // Guards the generator: a fuzz that only ever produced one outcome would prove little.
    const reasons = new Set<number>();
    fc.assert(
      fc.property(arbScenario(layout), (sc) => {
        const { log } = runDevice({ ...sc, ops: [{ kind: 'pop', a: sc.q, b: 0, desc: sc.ring[0]! }] }, 'ts');
        const pop = log[0] as [string, number, number[]];
        for (let i = 0; i < pop[1]; i++) reasons.add(pop[2][8 * i + 1]!);
        const state = log[1] as unknown[];
        if (state[1]) reasons.add(state[1] as number);
      }),
      { numRuns: 1500, seed: 7 },
    );
    const expected =
      layout === 'split'
        ? [0, REJECT.DESC_INDEX_OUT_OF_RANGE, REJECT.CHAIN_TOO_LONG, REJECT.BUFFER_OUT_OF_BOUNDS, REJECT.READABLE_AFTER_WRITABLE,
           REJECT.INDIRECT_NOT_NEGOTIATED, REJECT.NESTED_INDIRECT, REJECT.INDIRECT_BAD_LENGTH, REJECT.INDIRECT_WITH_NEXT]
        : [0, REJECT.BAD_BUFFER_ID, REJECT.BUFFER_OUT_OF_BOUNDS, REJECT.READABLE_AFTER_WRITABLE, REJECT.DESC_NOT_AVAILABLE,
           REJECT.INDIRECT_NOT_NEGOTIATED, REJECT.NESTED_INDIRECT, REJECT.INDIRECT_BAD_LENGTH, REJECT.INDIRECT_WITH_NEXT];
    expect([...reasons].sort((a, b) => a - b)).toEqual(expect.arrayContaining(expected));
  });
});
