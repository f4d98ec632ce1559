/**
 * The TypeScript path: the same operations as the WebAssembly core, step for step and check for
 * check, on the same control blocks and memory, with the same constants (src/generated/
 * constants.ts, written with the core's by scripts/build-core.ts). Used where WebAssembly is
 * unavailable and as the oracle of the differential tests. The files mirror the core's: this one
 * is the twin of wasm/core.ts (the batch calls), src/lib/{split,packed,control,guest,records}.ts
 * of wasm/lib/*.ts; src/lib/views.ts binds the typed-array views of the memory being called.
 */
import type { Engine } from './engine.js';
import type { CompletionFolder } from './handlers.js';
import * as K from './generated/constants.js';
import { failQueue, field, reject, setField } from './lib/control.js';
import { HIGH_HALF, TWO_32 } from './lib/guest.js';
import { packedDeviceServe, packedDriverReclaimFold, packedDriverSubmit, packedPop, packedPush } from './lib/packed.js';
import { writeChain, writeCompact } from './lib/records.js';
import {
  splitDeviceServe,
  splitDriverReclaimFold,
  splitDriverSubmit,
  WALK_FULL,
  WALK_READABLE,
  WALK_READ_AT,
  WALK_READ_LEN,
  WALK_SEGMENTS,
  WALK_WRITABLE,
  WALK_WRITE_AT,
  WALK_WRITE_LEN,
  pairCompact,
  walk,
  walkSplitChain,
} from './lib/split.js';
import { U16, U32, bind, viewsOf, type Views } from './lib/views.js';

// ---- split ring, device side ----

/**
 * Pops up to `max` available chains, validating each whole chain first (walkSplitChain), into
 * chain + segment records or, when `compact`, compact records. Returns the count.
 */
function splitPop(cb: number, max: number, compact: boolean): number {
  const u16 = U16;
  const u32 = U32;
  if (field(cb, K.CONTROL_STATUS) !== 0) return 0;
  const size = field(cb, K.CONTROL_QUEUE_SIZE);
  const mask = size - 1;
  const table = field(cb, K.CONTROL_DESC);
  const avail = field(cb, K.CONTROL_DRIVER_AREA);
  const header = field(cb, K.CONTROL_MEMORY_HEADER);
  const r0 = (header + K.MEMORY_HEADER_REGIONS) >>> 2;
  const has0 = u32[(header + K.MEMORY_HEADER_REGION_COUNT) >>> 2]! !== 0;
  const gpa0 = u32[r0 + 1]! * TWO_32 + u32[r0]!;
  const size0 = u32[r0 + 3]! * TWO_32 + u32[r0 + 2]!;
  const offset0 = u32[r0 + (K.REGION_ENTRY_OFFSET >>> 2)]!;
  const indirectOk = (field(cb, K.CONTROL_FEATURES) & K.FEATURE_INDIRECT) !== 0;
  const out = field(cb, K.CONTROL_OUT);
  const segments = field(cb, K.CONTROL_SEGMENTS);
  const segmentCapacity = field(cb, K.CONTROL_SEGMENT_CAPACITY);
  let next = field(cb, K.CONTROL_AVAIL_INDEX);
  const availIdx = Atomics.load(u16, (avail + K.SPLIT_AVAIL_IDX) >>> 1);
  const pending = (availIdx - next) & 0xffff;
  if (pending > size) {
    failQueue(cb, K.REJECT_AVAIL_INDEX_TOO_FAR);
    return 0;
  }
  let limit = pending;
  if (limit > max) limit = max;
  const outCapacity = field(cb, K.CONTROL_OUT_CAPACITY);
  if (limit > outCapacity) limit = outCapacity;
  const ring = (avail + K.SPLIT_AVAIL_RING) >>> 1;
  // Compact pops check request/response chains inline (pairCompact), in small integers.
  const pairs = compact && has0 && gpa0 + size0 < HIGH_HALF;

  let count = 0;
  let seg = 0;
  let rejected = 0;
  let lastReason = 0;
  while (count < limit) {
    const head = u16[ring + (next & mask)]!;
    const first = seg;
    if (
      pairs &&
      head < size &&
      pairCompact(u32, out + count * K.COMPACT_RECORD_SIZE, table, size, gpa0, size0, offset0, head)
    ) {
      count++;
      next = (next + 1) & 0xffff;
      continue;
    }
    let reason = K.REJECT_DESC_INDEX_OUT_OF_RANGE;
    if (head < size) {
      reason = walkSplitChain(
        header,
        table,
        size,
        indirectOk,
        has0,
        gpa0,
        size0,
        offset0,
        head,
        compact,
        segments,
        segmentCapacity,
        seg,
      );
      // Out of segment records: this chain stays available for the next pop.
      if (walk[WALK_FULL] !== 0) break;
    }
    const ok = reason === 0;
    if (!ok) {
      rejected++;
      lastReason = reason;
    }
    if (compact) {
      const rec = out + count * K.COMPACT_RECORD_SIZE;
      if (ok)
        writeCompact(
          u32,
          rec,
          head,
          0,
          walk[WALK_READ_AT]!,
          walk[WALK_READ_LEN]!,
          walk[WALK_WRITE_AT]!,
          walk[WALK_WRITE_LEN]!,
          1,
        );
      else writeCompact(u32, rec, head, reason, 0, 0, 0, 0, 1);
    } else {
      const rec = out + count * K.CHAIN_RECORD_SIZE;
      if (ok) {
        seg = walk[WALK_SEGMENTS]!;
        writeChain(u32, rec, head, 0, walk[WALK_READABLE]!, walk[WALK_WRITABLE]!, first, 1);
      } else {
        writeChain(u32, rec, head, reason, 0, 0, first, 1);
      }
    }
    count++;
    next = (next + 1) & 0xffff;
  }
  setField(cb, K.CONTROL_AVAIL_INDEX, next);
  reject(cb, rejected, lastReason);
  return count;
}

/** Writes used elements from the input records or the compact records; only their layout differs. */
function splitPush(cb: number, count: number, compact: boolean): number {
  const u16 = U16;
  const u32 = U32;
  const capacity = field(cb, compact ? K.CONTROL_OUT_CAPACITY : K.CONTROL_INPUT_CAPACITY);
  const n = count < capacity ? count : capacity;
  const mask = field(cb, K.CONTROL_QUEUE_SIZE) - 1;
  const used = field(cb, K.CONTROL_DEVICE_AREA);
  const records = field(cb, compact ? K.CONTROL_OUT : K.CONTROL_INPUT) >>> 2;
  const stride = compact ? K.COMPACT_RECORD_SIZE >>> 2 : K.USED_RECORD_SIZE >>> 2;
  const idAt = compact ? K.COMPACT_RECORD_ID >>> 2 : K.USED_RECORD_ID >>> 2;
  const lengthAt = compact ? K.COMPACT_RECORD_USED_LENGTH >>> 2 : K.USED_RECORD_LENGTH >>> 2;
  const ring = (used + K.SPLIT_USED_RING) >>> 2;
  const idxAt = (used + K.SPLIT_USED_IDX) >>> 1;
  const elemWords = K.SPLIT_USED_ELEM_SIZE >>> 2;
  let idx = field(cb, K.CONTROL_USED_INDEX);
  for (let i = 0; i < n; i++) {
    const rec = records + i * stride;
    const elem = ring + (idx & mask) * elemWords;
    u32[elem + (K.SPLIT_USED_ELEM_ID >>> 2)] = u32[rec + idAt]!;
    u32[elem + (K.SPLIT_USED_ELEM_LEN >>> 2)] = u32[rec + lengthAt]!;
    idx = (idx + 1) & 0xffff;
    if (((i + 1) & 31) === 0) Atomics.store(u16, idxAt, idx);
  }
  if ((n & 31) !== 0) Atomics.store(u16, idxAt, idx);
  setField(cb, K.CONTROL_USED_INDEX, idx);
  return n;
}

// ---- split ring, driver side ----

function splitDriverReserve(cb: number, chains: number, perChain: number): number {
  const u16 = U16;
  const size = field(cb, K.CONTROL_QUEUE_SIZE);
  if (chains === 0 || perChain === 0 || perChain > size) return 0;
  const need = chains * perChain;
  let rc = field(cb, K.CONTROL_RESERVED_CHAINS);
  let rd = field(cb, K.CONTROL_RESERVED_DESCS);
  if (rc + chains > field(cb, K.CONTROL_OUT_CAPACITY)) return 0;
  if (rd + need > field(cb, K.CONTROL_SEGMENT_CAPACITY)) return 0;
  if (field(cb, K.CONTROL_FREE_COUNT) < need) return 0;
  const links = field(cb, K.CONTROL_LINKS) >>> 1;
  const positions = field(cb, K.CONTROL_SEGMENTS) >>> 1;
  const ids = field(cb, K.CONTROL_CHAIN_IDS) >>> 1;
  const lengths = field(cb, K.CONTROL_CHAIN_LENGTHS) >>> 1;
  let free = field(cb, K.CONTROL_FREE_HEAD);
  if (perChain === 2) {
    // Request/response chains: head and tail are the first two free descriptors, already linked
    // head -> tail by the free list (the general loop rewrites that same link).
    for (let c = 0; c < chains; c++) {
      const head = free;
      const tail = u16[links + head]!;
      free = u16[links + tail]!;
      u16[positions + rd] = head;
      u16[positions + rd + 1] = tail;
      u16[ids + rc] = head;
      u16[lengths + rc] = 2;
      rd += 2;
      rc++;
    }
  } else {
    for (let c = 0; c < chains; c++) {
      const head = free;
      let prev = free;
      for (let k = 0; k < perChain; k++) {
        const d = free;
        free = u16[links + d]!;
        u16[positions + rd] = d;
        if (k !== 0) u16[links + prev] = d;
        prev = d;
        rd++;
      }
      u16[ids + rc] = head;
      u16[lengths + rc] = perChain;
      rc++;
    }
  }
  setField(cb, K.CONTROL_FREE_HEAD, free);
  setField(cb, K.CONTROL_FREE_COUNT, field(cb, K.CONTROL_FREE_COUNT) - need);
  setField(cb, K.CONTROL_RESERVED_CHAINS, rc);
  setField(cb, K.CONTROL_RESERVED_DESCS, rd);
  return chains;
}

function splitDriverPublish(cb: number): number {
  const u16 = U16;
  const u32 = U32;
  const rc = field(cb, K.CONTROL_RESERVED_CHAINS);
  if (rc === 0) return 0;
  // Layout numbers in locals: module constants are context loads on every use in a hot loop.
  const descWords = K.SPLIT_DESC_SIZE >>> 2;
  const addrWord = K.SPLIT_DESC_ADDR >>> 2;
  const lenWord = K.SPLIT_DESC_LEN >>> 2;
  const flagsHalf = K.SPLIT_DESC_FLAGS >>> 1;
  const nextHalf = K.SPLIT_DESC_NEXT >>> 1;
  const specWords = K.BUFFER_SPEC_SIZE >>> 2;
  const specFlags = K.BUFFER_SPEC_FLAGS >>> 2;
  const specLow = K.BUFFER_SPEC_ADDR_LOW >>> 2;
  const specHigh = K.BUFFER_SPEC_ADDR_HIGH >>> 2;
  const specLength = K.BUFFER_SPEC_LENGTH >>> 2;
  const keepFlags = K.SPLIT_F_WRITE | K.SPLIT_F_INDIRECT;
  const nextFlag = K.SPLIT_F_NEXT;
  const mask = field(cb, K.CONTROL_QUEUE_SIZE) - 1;
  const table = field(cb, K.CONTROL_DESC) >>> 2;
  const avail = field(cb, K.CONTROL_DRIVER_AREA);
  const specs = field(cb, K.CONTROL_INPUT) >>> 2;
  const positions = field(cb, K.CONTROL_SEGMENTS) >>> 1;
  const ids = field(cb, K.CONTROL_CHAIN_IDS) >>> 1;
  const lengths = field(cb, K.CONTROL_CHAIN_LENGTHS) >>> 1;
  const inflight = field(cb, K.CONTROL_INFLIGHT) >>> 1;
  const ring = (avail + K.SPLIT_AVAIL_RING) >>> 1;
  let idx = field(cb, K.CONTROL_AVAIL_INDEX);
  let pos = 0;
  for (let c = 0; c < rc; c++) {
    const len = u16[lengths + c]!;
    const head = u16[ids + c]!;
    let d = u16[positions + pos]!;
    if (len === 2) {
      // Request/response chains, unrolled (same stores as the loop below).
      const tail = u16[positions + pos + 1]!;
      const spec = specs + pos * specWords;
      const tailSpec = spec + specWords;
      const w = table + d * descWords;
      const t = table + tail * descWords;
      u32[w + addrWord] = u32[spec + specLow]!;
      u32[w + addrWord + 1] = u32[spec + specHigh]!;
      u32[w + lenWord] = u32[spec + specLength]!;
      u16[2 * w + flagsHalf] = (u32[spec + specFlags]! & keepFlags) | nextFlag;
      u16[2 * w + nextHalf] = tail;
      u32[t + addrWord] = u32[tailSpec + specLow]!;
      u32[t + addrWord + 1] = u32[tailSpec + specHigh]!;
      u32[t + lenWord] = u32[tailSpec + specLength]!;
      u16[2 * t + flagsHalf] = u32[tailSpec + specFlags]! & keepFlags;
      u16[2 * t + nextHalf] = 0;
      pos += 2;
    } else {
      for (let k = 0; k < len; k++) {
        const spec = specs + pos * specWords;
        const w = table + d * descWords;
        let flags = u32[spec + specFlags]! & keepFlags;
        let next = 0;
        if (k + 1 < len) {
          flags |= nextFlag;
          next = u16[positions + pos + 1]!;
        }
        u32[w + addrWord] = u32[spec + specLow]!;
        u32[w + addrWord + 1] = u32[spec + specHigh]!;
        u32[w + lenWord] = u32[spec + specLength]!;
        u16[2 * w + flagsHalf] = flags;
        u16[2 * w + nextHalf] = next;
        pos++;
        d = next;
      }
    }
    u16[inflight + head] = len;
    u16[ring + (idx & mask)] = head;
    idx = (idx + 1) & 0xffff;
  }
  Atomics.store(u16, (avail + K.SPLIT_AVAIL_IDX) >>> 1, idx);
  setField(cb, K.CONTROL_AVAIL_INDEX, idx);
  setField(cb, K.CONTROL_RESERVED_CHAINS, 0);
  setField(cb, K.CONTROL_RESERVED_DESCS, 0);
  return rc;
}

// ---- packed ring, driver side ----

function packedDriverReserve(cb: number, chains: number, perChain: number): number {
  const u16 = U16;
  const size = field(cb, K.CONTROL_QUEUE_SIZE);
  if (chains === 0 || perChain === 0 || perChain > size) return 0;
  const need = chains * perChain;
  let rc = field(cb, K.CONTROL_RESERVED_CHAINS);
  let rd = field(cb, K.CONTROL_RESERVED_DESCS);
  if (rc + chains > field(cb, K.CONTROL_OUT_CAPACITY)) return 0;
  if (rd + need > field(cb, K.CONTROL_SEGMENT_CAPACITY)) return 0;
  if (field(cb, K.CONTROL_FREE_COUNT) < rd + need) return 0;
  let freeIds = field(cb, K.CONTROL_FREE_HEAD);
  if (freeIds < chains) return 0;
  const stack = field(cb, K.CONTROL_LINKS) >>> 1;
  const positions = field(cb, K.CONTROL_SEGMENTS) >>> 1;
  const ids = field(cb, K.CONTROL_CHAIN_IDS) >>> 1;
  const lengths = field(cb, K.CONTROL_CHAIN_LENGTHS) >>> 1;
  let slot = field(cb, K.CONTROL_AVAIL_INDEX) + rd;
  while (slot >= size) slot -= size;
  for (let c = 0; c < chains; c++) {
    freeIds--;
    u16[ids + rc] = u16[stack + freeIds]!;
    u16[lengths + rc] = perChain;
    rc++;
    for (let k = 0; k < perChain; k++) {
      u16[positions + rd] = slot;
      rd++;
      slot++;
      if (slot === size) slot = 0;
    }
  }
  setField(cb, K.CONTROL_FREE_HEAD, freeIds);
  setField(cb, K.CONTROL_RESERVED_CHAINS, rc);
  setField(cb, K.CONTROL_RESERVED_DESCS, rd);
  return chains;
}

function packedDriverPublish(cb: number): number {
  const u16 = U16;
  const u32 = U32;
  const rc = field(cb, K.CONTROL_RESERVED_CHAINS);
  if (rc === 0) return 0;
  const size = field(cb, K.CONTROL_QUEUE_SIZE);
  const ring = field(cb, K.CONTROL_DESC);
  const specs = field(cb, K.CONTROL_INPUT) >>> 2;
  const ids = field(cb, K.CONTROL_CHAIN_IDS) >>> 1;
  const lengths = field(cb, K.CONTROL_CHAIN_LENGTHS) >>> 1;
  const inflight = field(cb, K.CONTROL_INFLIGHT) >>> 1;
  const specWords = K.BUFFER_SPEC_SIZE >>> 2;
  let slot = field(cb, K.CONTROL_AVAIL_INDEX);
  let wrap = field(cb, K.CONTROL_AVAIL_WRAP);
  let pos = 0;
  let firstFlagsAt = 0;
  let firstFlags = 0;
  for (let c = 0; c < rc; c++) {
    const len = u16[lengths + c]!;
    const id = u16[ids + c]!;
    for (let k = 0; k < len; k++) {
      const spec = specs + pos * specWords;
      const d = ring + slot * K.PACKED_DESC_SIZE;
      const dw = d >>> 2;
      let flags = u32[spec + (K.BUFFER_SPEC_FLAGS >>> 2)]! & (K.PACKED_F_WRITE | K.PACKED_F_INDIRECT);
      if (k + 1 < len) flags |= K.PACKED_F_NEXT;
      flags |= wrap !== 0 ? K.PACKED_F_AVAIL : K.PACKED_F_USED;
      u32[dw + (K.PACKED_DESC_ADDR >>> 2)] = u32[spec + (K.BUFFER_SPEC_ADDR_LOW >>> 2)]!;
      u32[dw + (K.PACKED_DESC_ADDR >>> 2) + 1] = u32[spec + (K.BUFFER_SPEC_ADDR_HIGH >>> 2)]!;
      u32[dw + (K.PACKED_DESC_LEN >>> 2)] = u32[spec + (K.BUFFER_SPEC_LENGTH >>> 2)]!;
      u16[(d + K.PACKED_DESC_ID) >>> 1] = id;
      if (pos === 0) {
        firstFlagsAt = (d + K.PACKED_DESC_FLAGS) >>> 1;
        firstFlags = flags;
      } else {
        u16[(d + K.PACKED_DESC_FLAGS) >>> 1] = flags;
      }
      pos++;
      slot++;
      if (slot === size) {
        slot = 0;
        wrap ^= 1;
      }
    }
    u16[inflight + id] = len;
  }
  Atomics.store(u16, firstFlagsAt, firstFlags);
  setField(cb, K.CONTROL_AVAIL_INDEX, slot);
  setField(cb, K.CONTROL_AVAIL_WRAP, wrap);
  setField(cb, K.CONTROL_FREE_COUNT, field(cb, K.CONTROL_FREE_COUNT) - pos);
  setField(cb, K.CONTROL_RESERVED_CHAINS, 0);
  setField(cb, K.CONTROL_RESERVED_DESCS, 0);
  return rc;
}

// ---- batch reclaim: the folds with a consumer that writes RECLAIM_RECORDs ----

/** CompletionFolder of the batch reclaim calls: writes {id, len} records; the accumulator counts them. */
class ReclaimRecords implements CompletionFolder<number> {
  u32: Uint32Array<ArrayBufferLike> = U32;
  out = 0;

  complete(count: number, id: number, len: number): number {
    const rec = this.out + count * (K.RECLAIM_RECORD_SIZE >>> 2);
    this.u32[rec + (K.RECLAIM_RECORD_ID >>> 2)] = id;
    this.u32[rec + (K.RECLAIM_RECORD_LENGTH >>> 2)] = len;
    return count + 1;
  }
}

/** The records consumer for `v`'s memory, reset to the queue's output array. */
function recordsFor(v: Views, records: ReclaimRecords, cb: number): ReclaimRecords {
  records.u32 = v.u32;
  records.out = v.u32[(cb + K.CONTROL_OUT) >>> 2]! >>> 2;
  return records;
}

/** The batch reclaim calls read at most as many elements as the output array holds. */
function batchLimit(v: Views, cb: number, max: number): number {
  const capacity = v.u32[(cb + K.CONTROL_OUT_CAPACITY) >>> 2]!;
  return max < capacity ? max : capacity;
}

export function createTsEngine(memory: WebAssembly.Memory): Engine {
  const v = viewsOf(memory);
  const records = new ReclaimRecords();
  return {
    name: 'ts',
    splitDevicePop: (cb, max) => (bind(v), splitPop(cb, max, false)),
    splitDevicePopCompact: (cb, max) => (bind(v), splitPop(cb, max, true)),
    splitDevicePush: (cb, count) => (bind(v), splitPush(cb, count, false)),
    splitDevicePushCompact: (cb, count) => (bind(v), splitPush(cb, count, true)),
    splitDriverReserve: (cb, chains, perChain) => (bind(v), splitDriverReserve(cb, chains, perChain)),
    splitDriverPublish: (cb) => (bind(v), splitDriverPublish(cb)),
    splitDriverReclaim: (cb, max) =>
      splitDriverReclaimFold(v, cb, batchLimit(v, cb, max), recordsFor(v, records, cb), 0),
    packedDevicePop: (cb, max) => (bind(v), packedPop(cb, max, false)),
    packedDevicePopCompact: (cb, max) => (bind(v), packedPop(cb, max, true)),
    packedDevicePush: (cb, count) => (bind(v), packedPush(cb, count, false)),
    packedDevicePushCompact: (cb, count) => (bind(v), packedPush(cb, count, true)),
    packedDriverReserve: (cb, chains, perChain) => (bind(v), packedDriverReserve(cb, chains, perChain)),
    packedDriverPublish: (cb) => (bind(v), packedDriverPublish(cb)),
    packedDriverReclaim: (cb, max) =>
      packedDriverReclaimFold(v, cb, batchLimit(v, cb, max), recordsFor(v, records, cb), 0),
    splitDeviceServe: (cb, max, handler) => splitDeviceServe(v, cb, max, handler),
    packedDeviceServe: (cb, max, handler) => packedDeviceServe(v, cb, max, handler),
    splitDriverSubmit: (cb, chains, perChain, filler, descriptors) =>
      splitDriverSubmit(v, cb, chains, perChain, filler, descriptors),
    splitDriverReclaimFold: (cb, max, consumer, acc) => splitDriverReclaimFold(v, cb, max, consumer, acc),
    packedDriverSubmit: (cb, chains, perChain, filler, descriptors) =>
      packedDriverSubmit(v, cb, chains, perChain, filler, descriptors),
    packedDriverReclaimFold: (cb, max, consumer, acc) => packedDriverReclaimFold(v, cb, max, consumer, acc),
  };
}
