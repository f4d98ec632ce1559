// The fused batch loops (device serve, driver submit and reclaimFold) in their three forms must
// agree call for call: the TypeScript path's fused loops, the JavaScript API's batch fallback on
// the WebAssembly core, and the core's linkable AssemblyScript library (wasm/lib) driven by a
// test program (test/assembly/loops.ts) on the same control blocks.
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  REJECT,
  VirtqueueDevice,
  VirtqueueDriver,
  type ChainFiller,
  type ChainHandler,
  type CompletionFolder,
  type RingLayout,
} from '@vhost-user/vring';
import { compileLinked } from '../scripts/compile-linked.mjs';
import { BUFFERS, RING, S, setup, splitOffer, writePackedDesc, writeSplitDesc, type Setup } from './helpers.js';
import { RUNS, arbScenario, baseOf, deviceWritesUsed, fill, remap, type Scenario } from './scenarios.js';

type Mode = 'ts' | 'wasm-js' | 'linked';
const MODES: readonly Mode[] = ['ts', 'wasm-js', 'linked'];

interface Program {
  startLog(at: number): void;
  logWords(): number;
  serve(cb: number, max: number): number;
  submit(cb: number, chains: number, perChain: number, base: bigint): number;
  fold(cb: number, max: number, acc: bigint): bigint;
  servePacked(cb: number, max: number): number;
  submitPacked(cb: number, chains: number, perChain: number, base: bigint): number;
  foldPacked(cb: number, max: number, acc: bigint): bigint;
}

/** The test program's three loops for one layout. */
function loopsOf(run: Program, layout: RingLayout) {
  return layout === 'split'
    ? { serve: run.serve, submit: run.submit, fold: run.fold }
    : { serve: run.servePacked, submit: run.submitPacked, fold: run.foldPacked };
}

let program: WebAssembly.Module;
beforeAll(() => {
  program = compileLinked(fileURLToPath(new URL('./assembly/loops.ts', import.meta.url)));
}, 60_000);

const usedLength = (id: number, readLen: number, writeLen: number) => (id * 7 + readLen + writeLen) & 0xffff;
const pickFlags = (chain: number, k: number, index: number) =>
  [0, S.WRITE, S.INDIRECT | S.WRITE][(chain + k + index) % 3]!;

/** The JavaScript twins of the test program's callbacks, logging into an array. */
class LogHandler implements ChainHandler {
  constructor(private readonly log: number[]) {}
  serve(id: number, readAt: number, readLen: number, writeAt: number, writeLen: number): number {
    this.log.push(id, readAt, readLen, writeAt, writeLen);
    return usedLength(id, readLen, writeLen);
  }
}

class LogFiller implements ChainFiller {
  constructor(
    private readonly log: number[],
    private readonly perChain: number,
    private readonly base: number,
  ) {}
  fill(chain: number, id: number, descriptors: Uint16Array, first: number): void {
    this.log.push(chain, id);
    for (let k = 0; k < this.perChain; k++) this.log.push(descriptors[first + k]!);
  }
  address(_chain: number, k: number, index: number): number {
    return this.base + index * 16 + k;
  }
  length(chain: number, k: number): number {
    return 16 + k + chain;
  }
  flags(chain: number, k: number, index: number): number {
    return pickFlags(chain, k, index);
  }
}

class LogFolder implements CompletionFolder<number> {
  constructor(private readonly log: number[]) {}
  complete(acc: number, id: number, len: number): number {
    this.log.push(id, len);
    return (Math.imul(acc, 31) + id * 7 + len) >>> 0;
  }
}

/** The queue engine and, in linked mode, the test program on the same memory. */
function sides(s: Setup, mode: Mode): { engine: 'ts' | 'wasm'; run: Program | undefined; logAt: number } {
  if (mode !== 'linked') return { engine: mode === 'ts' ? 'ts' : 'wasm', run: undefined, logAt: 0 };
  const run = new WebAssembly.Instance(program, { env: { memory: s.guest.memory } }).exports as unknown as Program;
  return { engine: 'wasm', run, logAt: s.guest.allocate(1 << 16) };
}

function takeLog(s: Setup, run: Program | undefined, logAt: number, log: number[]): number[] {
  if (!run) return log.splice(0);
  const words = run.logWords();
  return Array.from(s.guest.u32.subarray(logAt >>> 2, (logAt >>> 2) + words));
}

/** A digest of the guest region (rings and buffers); the scratch records may differ between modes. */
function guestBytes(s: Setup): string {
  return createHash('sha256').update(s.guest.u8.subarray(s.guest.scratchEnd)).digest('hex');
}

function runDevice(sc: Scenario, mode: Mode): unknown[] {
  const s = setup(sc.layout, 'wasm', { queueSize: sc.q, indirect: sc.indirect, batch: 8, segments: sc.q });
  const { engine, run, logAt } = sides(s, mode);
  const device = new VirtqueueDevice({ ...s.options, engine });
  fill(s, sc);
  const base = baseOf(sc);
  device.setBase(base);
  remap(s, sc);
  const split = sc.layout === 'split';
  const availIdx = s.at(RING.driverArea) + 2;
  if (split) s.guest.view.setUint16(availIdx, base + sc.ahead, true);
  const out: unknown[] = [];
  const log: number[] = [];
  const handler = new LogHandler(log);
  for (const op of sc.ops) {
    if (op.kind === 'poke') {
      (split ? writeSplitDesc : writePackedDesc)(s.guest, s.at(RING.desc) + 16 * (op.a % sc.q), op.desc);
      if (split) {
        const idx = op.b % 8 === 0 ? op.b : s.guest.view.getUint16(availIdx, true) + (op.b % 3);
        s.guest.view.setUint16(availIdx, idx, true);
      }
    } else {
      run?.startLog(logAt);
      const n = run ? loopsOf(run, sc.layout).serve(device.control, op.a) : device.serve(handler, op.a);
      out.push(['serve', n, takeLog(s, run, logAt, log)]);
    }
    out.push([
      'state',
      device.status,
      device.errors,
      device.lastError,
      device.needsReset,
      device.getBase(),
      device.usedIndex,
    ]);
  }
  out.push(guestBytes(s));
  return out;
}

function runDriver(sc: Scenario, mode: Mode): unknown[] {
  const s = setup(sc.layout, 'wasm', { queueSize: sc.q, indirect: sc.indirect, batch: 8, segments: 2 * sc.q });
  const { engine, run, logAt } = sides(s, mode);
  const driver = new VirtqueueDriver({ ...s.options, engine });
  remap(s, sc);
  const out: unknown[] = [];
  const log: number[] = [];
  let acc = 0;
  for (const op of sc.ops) {
    if (op.kind === 'pop') {
      const chains = 1 + (op.a % 9);
      const perChain = 1 + (op.b % 3);
      const bufferBase = (op.b & 8) !== 0 ? 2 ** 40 + BUFFERS : BUFFERS;
      run?.startLog(logAt);
      const n = run
        ? loopsOf(run, sc.layout).submit(driver.control, chains, perChain, BigInt(bufferBase))
        : driver.submit(chains, perChain, new LogFiller(log, perChain, bufferBase));
      out.push(['submit', n, takeLog(s, run, logAt, log)]);
    } else if (op.kind === 'reclaim') {
      run?.startLog(logAt);
      acc = run
        ? Number(loopsOf(run, sc.layout).fold(driver.control, op.a, BigInt(acc)))
        : driver.reclaimFold(new LogFolder(log), acc, op.a);
      out.push(['fold', acc, takeLog(s, run, logAt, log)]);
    } else if (op.kind === 'reserve' && (op.b & 3) === 0) {
      out.push(['reserve', driver.reserve(1 + (op.a % 4), 1 + (op.b % 3))]);
    } else if (op.kind === 'push') {
      for (let p = 0; p < driver.specs.length / 4; p++) driver.setSpec(p, BUFFERS + 32 * p, 16, p & 2);
      out.push(['publish', driver.publish()]);
    } else {
      deviceWritesUsed(s, sc, op);
    }
    out.push(['state', driver.status, driver.errors, driver.lastError, driver.freeDescriptors, driver.reservedChains]);
  }
  out.push(guestBytes(s));
  return out;
}

describe.each(['split', 'packed'] as const)(
  '%s ring, fused loops: TypeScript path, JavaScript API on the core, linked AssemblyScript library',
  (layout) => {
    it('device serve agrees on random ring contents, malicious chains included', () => {
      fc.assert(
        fc.property(arbScenario(layout), (sc) => {
          const [ts, wasm, linked] = MODES.map((m) => runDevice(sc, m));
          expect(wasm).toEqual(ts);
          expect(linked).toEqual(ts);
        }),
        { numRuns: RUNS },
      );
    });

    it('driver submit and reclaimFold agree against a device writing random used entries', () => {
      fc.assert(
        fc.property(arbScenario(layout), (sc) => {
          const [ts, wasm, linked] = MODES.map((m) => runDriver(sc, m));
          expect(wasm).toEqual(ts);
          expect(linked).toEqual(ts);
        }),
        { numRuns: RUNS },
      );
    });
  },
);

describe('split ring, fused loops, by hand', () => {
  it.each(MODES)('%s: a request/response exchange, a rejected chain and a chain outside the fast path', (mode) => {
    const s = setup('split', 'wasm', { queueSize: 8, batch: 8 });
    const { engine, run, logAt } = sides(s, mode);
    const device = new VirtqueueDevice({ ...s.options, engine });
    const at = (i: number) => s.at(RING.desc) + 16 * i;
    writeSplitDesc(s.guest, at(0), { addr: BUFFERS, len: 16, flags: S.NEXT, next: 1 });
    writeSplitDesc(s.guest, at(1), { addr: BUFFERS + 0x100, len: 512, flags: S.WRITE });
    writeSplitDesc(s.guest, at(2), { addr: BUFFERS, len: 16, flags: S.INDIRECT }); // not negotiated
    writeSplitDesc(s.guest, at(3), { addr: BUFFERS + 0x200, len: 8, flags: S.NEXT, next: 4 }); // three descriptors
    writeSplitDesc(s.guest, at(4), { addr: BUFFERS + 0x300, len: 8, flags: S.NEXT, next: 5 });
    writeSplitDesc(s.guest, at(5), { addr: BUFFERS + 0x400, len: 64, flags: S.WRITE });
    splitOffer(s, [0, 2, 3]);
    run?.startLog(logAt);
    const log: number[] = [];
    expect(run ? run.serve(device.control, 8) : device.serve(new LogHandler(log), 8)).toBe(3);
    const calls = takeLog(s, run, logAt, log);
    const off = (gpa: number) => s.at(gpa);
    expect(calls).toEqual([
      0,
      off(BUFFERS),
      16,
      off(BUFFERS + 0x100),
      512,
      3,
      off(BUFFERS + 0x200),
      8,
      off(BUFFERS + 0x400),
      64,
    ]);
    const used = s.at(RING.deviceArea);
    const elem = (i: number) => [
      s.guest.view.getUint32(used + 4 + 8 * i, true),
      s.guest.view.getUint32(used + 8 + 8 * i, true),
    ];
    expect([elem(0), elem(1), elem(2)]).toEqual([
      [0, usedLength(0, 16, 512)],
      [2, 0],
      [3, usedLength(3, 8, 64)],
    ]);
    expect(s.guest.view.getUint16(used + 2, true)).toBe(3);
    expect(device.errors).toBe(1);
    expect(device.lastError).toBe(REJECT.INDIRECT_NOT_NEGOTIATED);
    expect(device.needsReset).toBe(true);
  });
});
