/** Inflight regions: the spec's fetch, completion and takeover procedures, split and packed. */
import { describe, expect, it } from 'vitest';
import { decodeQueueRegionPacked, decodeQueueRegionSplit } from '@vhost-user/codec';
import {
  InflightError,
  PackedInflightRegion,
  SplitInflightRegion,
  inflightBufferBytes,
  inflightRegionBytes,
} from '../src/inflight.js';

const Q = 8;

function split(): { region: SplitInflightRegion; buffer: ArrayBuffer } {
  const buffer = new ArrayBuffer(inflightRegionBytes(Q, false));
  return { region: new SplitInflightRegion(buffer, 0, Q), buffer };
}

function packed(): { region: PackedInflightRegion; buffer: ArrayBuffer } {
  const buffer = new ArrayBuffer(inflightRegionBytes(Q, true));
  return { region: new PackedInflightRegion(buffer, 0, Q), buffer };
}

describe('inflight buffer sizes', () => {
  it('rounds each queue region up to 64 bytes', () => {
    expect(inflightRegionBytes(128, false) % 64).toBe(0);
    expect(inflightRegionBytes(128, false)).toBe(2112);
    expect(inflightRegionBytes(256, true)).toBe(8256); // 32 + 32 * 256, rounded up
    expect(inflightBufferBytes(2, 128, false)).toBe(2 * 2112);
  });
  it('refuses queue sizes outside 1..32768', () => {
    expect(() => new SplitInflightRegion(new ArrayBuffer(1 << 20), 0, 0)).toThrow(InflightError);
    expect(() => inflightRegionBytes(40000, false)).not.toThrow(); // sizes only; regions check
    expect(() => new PackedInflightRegion(new ArrayBuffer(64), 0, 40000)).toThrow(InflightError);
  });
});

describe('split inflight region', () => {
  it('writes the fields where the spec table puts them', () => {
    const { region, buffer } = split();
    region.initialise(7);
    region.fetched(3);
    region.fetched(5);
    region.linkBatch([5]);
    const decoded = decodeQueueRegionSplit(new DataView(buffer), 0, 16 + 16 * Q, true);
    expect(decoded.version).toBe(1);
    expect(decoded.desc).toHaveLength(Q);
    expect(decoded.usedIdx).toBe(7);
    expect(decoded.lastBatchHead).toBe(5);
    expect(decoded.desc[3]).toMatchObject({ inflight: 1, counter: 0n });
    expect(decoded.desc[5]).toMatchObject({ inflight: 1, counter: 1n, next: 0 });
  });

  it('a fresh region has nothing to resubmit and is initialised by the takeover', () => {
    const { region } = split();
    expect(region.takeOver(42)).toEqual([]);
    expect(region.version).toBe(1);
    expect(region.usedIdx).toBe(42);
  });

  it('resubmits what was fetched and not completed, oldest first, after out-of-order completion', () => {
    const { region, buffer } = split();
    region.initialise(0);
    region.fetched(6); // counter 0
    region.fetched(2); // counter 1
    region.fetched(4); // counter 2
    region.linkBatch([2]);
    region.finishBatch([2], 1);
    const again = new SplitInflightRegion(buffer, 0, Q);
    expect(again.takeOver(1)).toEqual([6, 4]);
    // The counter continues above the highest value found.
    again.fetched(1);
    expect(again.counterOf(1)).toBe(3n);
  });

  it('repairs a completion interrupted after the used ring moved', () => {
    const { region, buffer } = split();
    region.initialise(10);
    region.fetched(1);
    region.fetched(2);
    region.fetched(3);
    region.linkBatch([1, 3]); // published (used.idx 12), crashed before clearing
    const again = new SplitInflightRegion(buffer, 0, Q);
    expect(again.takeOver(12)).toEqual([2]);
    expect(again.usedIdx).toBe(12);
    expect(again.isInflight(1)).toBe(false);
    expect(again.isInflight(3)).toBe(false);
  });

  it('keeps the batch in flight when the crash came before the used ring moved', () => {
    const { region, buffer } = split();
    region.initialise(10);
    region.fetched(1);
    region.linkBatch([1]);
    expect(new SplitInflightRegion(buffer, 0, Q).takeOver(10)).toEqual([1]);
  });

  it('refuses a buffer it cannot trust', () => {
    const bad = (edit: (v: DataView) => void, usedIdx = 0) => {
      const { region, buffer } = split();
      region.initialise(0);
      edit(new DataView(buffer));
      return () => new SplitInflightRegion(buffer, 0, Q).takeOver(usedIdx);
    };
    expect(bad((v) => v.setUint16(8, 2, true))).toThrow(/version 2/);
    expect(bad((v) => v.setUint16(10, Q * 2, true))).toThrow(/16 entries/);
    expect(bad((v) => v.setUint8(16, 9))).toThrow(/flag of head 0 is 9/);
    expect(bad(() => {}, 200)).toThrow(/behind/);
    expect(bad((v) => v.setUint16(12, 99, true), 1)).toThrow(/outside the queue/);
  });
});

describe('packed inflight region', () => {
  const d = (id: number, flags = 0) => ({ addr: BigInt(0x1000 * (id + 1)), len: 512, flags, id });

  it('initialises the free list and both wrap counters', () => {
    const { region, buffer } = packed();
    region.initialise();
    const decoded = decodeQueueRegionPacked(new DataView(buffer), 0, 32 + 32 * Q, true);
    expect(decoded.version).toBe(1);
    expect(decoded.usedWrapCounter).toBe(1);
    expect(decoded.oldUsedWrapCounter).toBe(1);
    expect(decoded.desc.map((e) => e.next)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('records chains in the spec table fields and resubmits the one not completed', () => {
    const { region, buffer } = packed();
    region.initialise();
    // Chain 0: two descriptors; chain 1: one.
    expect(region.fetched(d(0, 1), true, false)).toBe(0);
    expect(region.fetched(d(0), false, true)).toBe(0);
    expect(region.fetched(d(1), true, true)).toBe(2);
    const decoded = decodeQueueRegionPacked(new DataView(buffer), 0, 32 + 32 * Q, true);
    expect(decoded.desc[0]).toMatchObject({ inflight: 1, num: 2, last: 1, counter: 0n, id: 0, flags: 1, len: 512 });
    expect(decoded.desc[2]).toMatchObject({ inflight: 1, num: 1, last: 2, counter: 1n, addr: 0x2000n });
    expect(decoded.freeHead).toBe(3);
    // Chain 1 completes (one ring slot).
    region.beginBatch([2], 1);
    region.finishBatch([2]);
    const again = new PackedInflightRegion(buffer, 0, Q);
    const resubmit = again.takeOver(() => 0);
    expect(resubmit).toHaveLength(1);
    expect(resubmit[0]).toMatchObject({ entry: 0, counter: 0n });
    expect(resubmit[0]?.descriptors).toEqual([d(0, 1), d(0)]);
    expect(again.isInflight(2)).toBe(false);
  });

  it('rolls back a completion the driver never saw, and finishes one it did', () => {
    const setup = () => {
      const { region, buffer } = packed();
      region.initialise();
      region.fetched(d(0), true, true);
      region.fetched(d(1), true, true);
      region.beginBatch([1], 1); // crashed before step 4
      return buffer;
    };
    const AVAIL_WRAP1 = 1 << 7; // avail=1, used=0: still available with wrap counter 1
    const USED_WRAP1 = (1 << 7) | (1 << 15);
    const notSeen = new PackedInflightRegion(setup(), 0, Q).takeOver(() => AVAIL_WRAP1);
    expect(notSeen.map((r) => r.entry)).toEqual([0, 1]);
    const regionSeen = new PackedInflightRegion(setup(), 0, Q);
    const seen = regionSeen.takeOver(() => USED_WRAP1);
    expect(seen.map((r) => r.entry)).toEqual([0]);
    expect(regionSeen.usedIdx).toBe(1);
  });

  it('refuses chains that do not end where they say', () => {
    const { region, buffer } = packed();
    region.initialise();
    region.fetched(d(0), true, true);
    new DataView(buffer).setUint16(32 + 4, 5, true); // desc[0].last
    expect(() => new PackedInflightRegion(buffer, 0, Q).takeOver(() => 0)).toThrow(InflightError);
  });
});
