// Differential fuzz: random ring contents and operations must give identical results from the
// WebAssembly core and the TypeScript path: return values, chain and segment records, rejection
// reasons, control blocks, and every byte of memory.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SPLIT_AVAIL } from '@vhost-user/codec';
import { REJECT, VirtqueueDevice, VirtqueueDriver, type EngineName } from '@vhost-user/vring';
import { RING, setup, writePackedDesc, writeSplitDesc } from './helpers.js';
import { RUNS, arbScenario, baseOf, deviceWritesUsed, fill, remap, type Scenario } from './scenarios.js';

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
      for (let i = 0; i < n; i++)
        device.used.set([(op.b + i) % (sc.q + 1), op.desc.len, (op.b >> (i % 8)) % (sc.q + 2), 0], 4 * i);
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
      for (let p = 0; p < driver.specs.length / 4; p++)
        driver.setSpec(p, BigInt.asUintN(64, BigInt(op.desc.addr) + BigInt(p)), op.desc.len, op.desc.flags + p);
      log.push(['publish', driver.publish()]);
    } else if (op.kind === 'reclaim') {
      const n = driver.reclaim(op.a);
      log.push(['reclaim', n, Array.from(driver.completions.subarray(0, 2 * n))]);
    } else {
      deviceWritesUsed(s, sc, op);
    }
    log.push(['state', driver.status, driver.errors, driver.lastError, driver.freeDescriptors, driver.reservedChains]);
  }
  return { log, memory: new Uint8Array(s.guest.memory.buffer.slice(0)) };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return (
    Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0
  );
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
        ? [
            0,
            REJECT.DESC_INDEX_OUT_OF_RANGE,
            REJECT.CHAIN_TOO_LONG,
            REJECT.BUFFER_OUT_OF_BOUNDS,
            REJECT.READABLE_AFTER_WRITABLE,
            REJECT.INDIRECT_NOT_NEGOTIATED,
            REJECT.NESTED_INDIRECT,
            REJECT.INDIRECT_BAD_LENGTH,
            REJECT.INDIRECT_WITH_NEXT,
          ]
        : [
            0,
            REJECT.BAD_BUFFER_ID,
            REJECT.BUFFER_OUT_OF_BOUNDS,
            REJECT.READABLE_AFTER_WRITABLE,
            REJECT.DESC_NOT_AVAILABLE,
            REJECT.INDIRECT_NOT_NEGOTIATED,
            REJECT.NESTED_INDIRECT,
            REJECT.INDIRECT_BAD_LENGTH,
            REJECT.INDIRECT_WITH_NEXT,
          ];
    expect([...reasons].sort((a, b) => a - b)).toEqual(expect.arrayContaining(expected));
  });
});
