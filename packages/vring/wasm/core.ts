// WebAssembly core of @vhost-user/vring (AssemblyScript, compiled by scripts/build-core.ts).
//
// Every function works on a control block (CONTROL_*) in the linear memory and on guest memory
// reached through the regions table; nothing is allocated and guest memory is never copied.
// src/engine-ts.ts is the TypeScript twin of this file: keep the two in the same order and with
// the same checks, the differential tests compare them result by result.
import * as K from "./generated/constants";

import { failQueue, field, reject, setField } from "./lib/control";
import {
  checkChain, chainReason, region0Length, splitDriverReclaimFold, storeSplitDescriptor, walkSplitChain,
  USED_RELEASE_INTERVAL, walkFull, walkReadable, walkSegments, walkWritable,
} from "./lib/split";
import { writeChain, writeCompact } from "./lib/records";
import { packedDriverReclaimFold, packedPop, packedPush } from "./lib/packed";


// ---- split ring, device side -----------------------------------------------------------------

/** Pops up to `max` available chains, validating each whole chain first. Returns the count. */
export function splitDevicePop(cb: u32, max: u32): u32 {
  return splitPop(cb, max, false);
}

/** splitDevicePop writing compact records (first readable / first writable buffer, no segment records). */
export function splitDevicePopCompact(cb: u32, max: u32): u32 {
  return splitPop(cb, max, true);
}

/** checkChain sink of the compact pop: the record of a valid chain. */
class CompactRecords {
  chain(rec: u32, head: u32, readAt: u32, readLen: u32, writeAt: u32, writeLen: u32): u32 {
    writeCompact(rec, head, 0, readAt, readLen, writeAt, writeLen, 1);
    return 0;
  }
}

// `compact` is a constant at both call sites: inlining specialises the loop for each record kind.
@inline function splitPop(cb: u32, max: u32, compact: bool): u32 {
  if (field(cb, K.CONTROL_STATUS) != 0) return 0;
  const size = field(cb, K.CONTROL_QUEUE_SIZE);
  const mask = size - 1;
  const table = field(cb, K.CONTROL_DESC);
  const avail = field(cb, K.CONTROL_DRIVER_AREA);
  const header = field(cb, K.CONTROL_MEMORY_HEADER);
  const has0 = load<u32>(header + K.MEMORY_HEADER_REGION_COUNT) != 0;
  const gpa0 = load<u64>(header + K.MEMORY_HEADER_REGIONS + K.REGION_ENTRY_GPA);
  const size0 = load<u64>(header + K.MEMORY_HEADER_REGIONS + K.REGION_ENTRY_LENGTH);
  const offset0 = load<u32>(header + K.MEMORY_HEADER_REGIONS + K.REGION_ENTRY_OFFSET);
  const compactSize0 = region0Length(header);
  const indirectOk = (field(cb, K.CONTROL_FEATURES) & K.FEATURE_INDIRECT) != 0;
  const out = field(cb, K.CONTROL_OUT);
  const segments = field(cb, K.CONTROL_SEGMENTS);
  const segmentCapacity = field(cb, K.CONTROL_SEGMENT_CAPACITY);
  let next = field(cb, K.CONTROL_AVAIL_INDEX);
  const availIdx = <u32>atomic.load<u16>(avail + K.SPLIT_AVAIL_IDX);
  const pending = (availIdx - next) & 0xffff;
  if (pending > size) {
    failQueue(cb, K.REJECT_AVAIL_INDEX_TOO_FAR);
    return 0;
  }
  let limit = pending;
  if (limit > max) limit = max;
  const outCapacity = field(cb, K.CONTROL_OUT_CAPACITY);
  if (limit > outCapacity) limit = outCapacity;

  let count: u32 = 0;
  let seg: u32 = 0;
  let rejected: u32 = 0;
  let lastReason: u32 = 0;
  while (count < limit) {
    const head = <u32>load<u16>(avail + K.SPLIT_AVAIL_RING + ((next & mask) << 1));
    let reason: u32 = 0;
    if (compact) {
      reason = chainReason(checkChain<CompactRecords>(cb, out + count * K.COMPACT_RECORD_SIZE, table, size, gpa0, compactSize0, offset0, head));
    } else {
      const first = seg;
      let readable: u32 = 0;
      let writable: u32 = 0;
      if (head >= size) {
        reason = K.REJECT_DESC_INDEX_OUT_OF_RANGE;
      } else {
        reason = walkSplitChain(header, table, size, indirectOk, has0, gpa0, size0, offset0, head, false, segments, segmentCapacity, seg);
        // Out of segment records: this chain stays available for the next pop.
        if (walkFull) break;
        if (reason == 0) {
          seg = walkSegments;
          readable = walkReadable;
          writable = walkWritable;
        }
      }
      writeChain(out + count * K.CHAIN_RECORD_SIZE, head, reason, readable, writable, first, 1);
    }
    if (reason != 0) {
      rejected++;
      lastReason = reason;
    }
    count++;
    next = (next + 1) & 0xffff;
  }
  setField(cb, K.CONTROL_AVAIL_INDEX, next);
  reject(cb, rejected, lastReason);
  return count;
}

/** Writes `count` used elements from the input records; publishes used.idx every 32 and at the end. */
export function splitDevicePush(cb: u32, count: u32): u32 {
  return splitPush(cb, count, false);
}

/** Publishes the first `count` compact records as used elements (id, usedLength); same releases as splitDevicePush. */
export function splitDevicePushCompact(cb: u32, count: u32): u32 {
  return splitPush(cb, count, true);
}

/** The used-ring writer behind both push calls; only where the (id, length) pairs come from differs. */
@inline function splitPush(cb: u32, count: u32, compact: bool): u32 {
  const capacity = compact ? field(cb, K.CONTROL_OUT_CAPACITY) : field(cb, K.CONTROL_INPUT_CAPACITY);
  const n = count < capacity ? count : capacity;
  const mask = field(cb, K.CONTROL_QUEUE_SIZE) - 1;
  const used = field(cb, K.CONTROL_DEVICE_AREA);
  const records = compact ? field(cb, K.CONTROL_OUT) : field(cb, K.CONTROL_INPUT);
  const stride = compact ? K.COMPACT_RECORD_SIZE : K.USED_RECORD_SIZE;
  const idAt = compact ? K.COMPACT_RECORD_ID : K.USED_RECORD_ID;
  const lengthAt = compact ? K.COMPACT_RECORD_USED_LENGTH : K.USED_RECORD_LENGTH;
  let idx = field(cb, K.CONTROL_USED_INDEX);
  for (let i: u32 = 0; i < n; i++) {
    const rec = records + i * stride;
    const elem = used + K.SPLIT_USED_RING + (idx & mask) * K.SPLIT_USED_ELEM_SIZE;
    store<u32>(elem + K.SPLIT_USED_ELEM_ID, load<u32>(rec + idAt));
    store<u32>(elem + K.SPLIT_USED_ELEM_LEN, load<u32>(rec + lengthAt));
    idx = (idx + 1) & 0xffff;
    if ((i + 1) % USED_RELEASE_INTERVAL == 0) atomic.store<u16>(used + K.SPLIT_USED_IDX, <u16>idx);
  }
  if (n % USED_RELEASE_INTERVAL != 0) atomic.store<u16>(used + K.SPLIT_USED_IDX, <u16>idx);
  setField(cb, K.CONTROL_USED_INDEX, idx);
  return n;
}

// ---- split ring, driver side -----------------------------------------------------------------

/** Takes `chains` chains of `perChain` descriptors from the free list. Returns `chains`, or 0 when they do not fit. */
export function splitDriverReserve(cb: u32, chains: u32, perChain: u32): u32 {
  const size = field(cb, K.CONTROL_QUEUE_SIZE);
  if (chains == 0 || perChain == 0 || perChain > size) return 0;
  const need = chains * perChain;
  let rc = field(cb, K.CONTROL_RESERVED_CHAINS);
  let rd = field(cb, K.CONTROL_RESERVED_DESCS);
  if (rc + chains > field(cb, K.CONTROL_OUT_CAPACITY)) return 0;
  if (rd + need > field(cb, K.CONTROL_SEGMENT_CAPACITY)) return 0;
  if (field(cb, K.CONTROL_FREE_COUNT) < need) return 0;
  const links = field(cb, K.CONTROL_LINKS);
  const positions = field(cb, K.CONTROL_SEGMENTS);
  const ids = field(cb, K.CONTROL_CHAIN_IDS);
  const lengths = field(cb, K.CONTROL_CHAIN_LENGTHS);
  let free = field(cb, K.CONTROL_FREE_HEAD);
  if (perChain == 2) {
    // Request/response chains: head and tail are the first two free descriptors, already linked
    // head -> tail by the free list (the general loop rewrites that same link).
    for (let c: u32 = 0; c < chains; c++) {
      const head = free;
      const tail = <u32>load<u16>(links + (head << 1));
      free = <u32>load<u16>(links + (tail << 1));
      store<u32>(positions + (rd << 1), head | (tail << 16)); // positions[rd], positions[rd + 1]
      store<u16>(ids + (rc << 1), <u16>head);
      store<u16>(lengths + (rc << 1), 2);
      rd += 2;
      rc++;
    }
  } else {
    for (let c: u32 = 0; c < chains; c++) {
      const head = free;
      let prev = free;
      for (let k: u32 = 0; k < perChain; k++) {
        const d = free;
        free = <u32>load<u16>(links + (d << 1));
        store<u16>(positions + (rd << 1), <u16>d);
        if (k != 0) store<u16>(links + (prev << 1), <u16>d);
        prev = d;
        rd++;
      }
      store<u16>(ids + (rc << 1), <u16>head);
      store<u16>(lengths + (rc << 1), <u16>perChain);
      rc++;
    }
  }
  setField(cb, K.CONTROL_FREE_HEAD, free);
  setField(cb, K.CONTROL_FREE_COUNT, field(cb, K.CONTROL_FREE_COUNT) - need);
  setField(cb, K.CONTROL_RESERVED_CHAINS, rc);
  setField(cb, K.CONTROL_RESERVED_DESCS, rd);
  return chains;
}

/** Writes the reserved chains' descriptors from the buffer specs and makes them available (one release of avail.idx). */
export function splitDriverPublish(cb: u32): u32 {
  const rc = field(cb, K.CONTROL_RESERVED_CHAINS);
  if (rc == 0) return 0;
  const mask = field(cb, K.CONTROL_QUEUE_SIZE) - 1;
  const table = field(cb, K.CONTROL_DESC);
  const avail = field(cb, K.CONTROL_DRIVER_AREA);
  const specs = field(cb, K.CONTROL_INPUT);
  const positions = field(cb, K.CONTROL_SEGMENTS);
  const ids = field(cb, K.CONTROL_CHAIN_IDS);
  const lengths = field(cb, K.CONTROL_CHAIN_LENGTHS);
  const inflight = field(cb, K.CONTROL_INFLIGHT);
  let idx = field(cb, K.CONTROL_AVAIL_INDEX);
  let pos: u32 = 0;
  for (let c: u32 = 0; c < rc; c++) {
    const len = <u32>load<u16>(lengths + (c << 1));
    const head = <u32>load<u16>(ids + (c << 1));
    if (len == 2) {
      // Request/response chains, unrolled: len, flags and next as one u64 per descriptor (the
      // build checks the three fields adjacent).
      const spec = specs + pos * K.BUFFER_SPEC_SIZE;
      const pair = load<u32>(positions + (pos << 1)); // positions[pos], positions[pos + 1]
      const tail = pair >>> 16;
      const headEntry = table + (pair & 0xffff) * K.SPLIT_DESC_SIZE;
      const tailEntry = table + tail * K.SPLIT_DESC_SIZE;
      const headFlags = (load<u32>(spec + K.BUFFER_SPEC_FLAGS) & (K.SPLIT_F_WRITE | K.SPLIT_F_INDIRECT)) | K.SPLIT_F_NEXT;
      const tailFlags = load<u32>(spec + K.BUFFER_SPEC_SIZE + K.BUFFER_SPEC_FLAGS) & (K.SPLIT_F_WRITE | K.SPLIT_F_INDIRECT);
      storeSplitDescriptor(headEntry, load<u64>(spec + K.BUFFER_SPEC_ADDR_LOW), load<u32>(spec + K.BUFFER_SPEC_LENGTH), headFlags, tail);
      storeSplitDescriptor(tailEntry, load<u64>(spec + K.BUFFER_SPEC_SIZE + K.BUFFER_SPEC_ADDR_LOW), load<u32>(spec + K.BUFFER_SPEC_SIZE + K.BUFFER_SPEC_LENGTH), tailFlags, 0);
      pos += 2;
    } else {
      for (let k: u32 = 0; k < len; k++) {
        const d = <u32>load<u16>(positions + (pos << 1));
        const spec = specs + pos * K.BUFFER_SPEC_SIZE;
        const entry = table + d * K.SPLIT_DESC_SIZE;
        let flags = load<u32>(spec + K.BUFFER_SPEC_FLAGS) & (K.SPLIT_F_WRITE | K.SPLIT_F_INDIRECT);
        let next: u32 = 0;
        if (k + 1 < len) {
          flags |= K.SPLIT_F_NEXT;
          next = <u32>load<u16>(positions + ((pos + 1) << 1));
        }
        store<u64>(entry + K.SPLIT_DESC_ADDR, load<u64>(spec + K.BUFFER_SPEC_ADDR_LOW));
        store<u32>(entry + K.SPLIT_DESC_LEN, load<u32>(spec + K.BUFFER_SPEC_LENGTH));
        store<u16>(entry + K.SPLIT_DESC_FLAGS, <u16>flags);
        store<u16>(entry + K.SPLIT_DESC_NEXT, <u16>next);
        pos++;
      }
    }
    store<u16>(inflight + (head << 1), <u16>len);
    store<u16>(avail + K.SPLIT_AVAIL_RING + ((idx & mask) << 1), <u16>head);
    idx = (idx + 1) & 0xffff;
  }
  atomic.store<u16>(avail + K.SPLIT_AVAIL_IDX, <u16>idx);
  setField(cb, K.CONTROL_AVAIL_INDEX, idx);
  setField(cb, K.CONTROL_RESERVED_CHAINS, 0);
  setField(cb, K.CONTROL_RESERVED_DESCS, 0);
  return rc;
}

// The first RECLAIM_RECORD of splitDriverReclaim's output (set before each fold).
let reclaimRecords: u32 = 0;

/** splitDriverReclaimFold consumer of the JavaScript API: the accumulator counts the records written. */
class ReclaimRecords {
  complete(count: u64, id: u32, len: u32): u64 {
    const rec = reclaimRecords + <u32>count * K.RECLAIM_RECORD_SIZE;
    store<u32>(rec + K.RECLAIM_RECORD_ID, id);
    store<u32>(rec + K.RECLAIM_RECORD_LENGTH, len);
    return count + 1;
  }
}

/** Reads up to `max` used elements, frees their chains, and writes {id, len} records. */
export function splitDriverReclaim(cb: u32, max: u32): u32 {
  const capacity = field(cb, K.CONTROL_OUT_CAPACITY);
  reclaimRecords = field(cb, K.CONTROL_OUT);
  return <u32>splitDriverReclaimFold<ReclaimRecords, u64>(cb, max < capacity ? max : capacity, 0);
}

// ---- packed ring, device side ----------------------------------------------------------------

/** Pops up to `max` available chains of a packed ring. Returns the count. */
export function packedDevicePop(cb: u32, max: u32): u32 {
  return packedPop(cb, max, false);
}

/** packedDevicePop writing compact records (see splitDevicePopCompact). */
export function packedDevicePopCompact(cb: u32, max: u32): u32 {
  return packedPop(cb, max, true);
}

/** Writes `count` used descriptors; the first one's flags last, as the single release. */
export function packedDevicePush(cb: u32, count: u32): u32 {
  return packedPush(cb, count, false);
}

/** Publishes the first `count` compact records as used descriptors (id, usedLength, ringSlots). */
export function packedDevicePushCompact(cb: u32, count: u32): u32 {
  return packedPush(cb, count, true);
}

// ---- packed ring, driver side ----------------------------------------------------------------

/** Takes `chains` buffer ids and `chains * perChain` ring slots. Returns `chains`, or 0 when they do not fit. */
export function packedDriverReserve(cb: u32, chains: u32, perChain: u32): u32 {
  const size = field(cb, K.CONTROL_QUEUE_SIZE);
  if (chains == 0 || perChain == 0 || perChain > size) return 0;
  const need = chains * perChain;
  let rc = field(cb, K.CONTROL_RESERVED_CHAINS);
  let rd = field(cb, K.CONTROL_RESERVED_DESCS);
  if (rc + chains > field(cb, K.CONTROL_OUT_CAPACITY)) return 0;
  if (rd + need > field(cb, K.CONTROL_SEGMENT_CAPACITY)) return 0;
  if (field(cb, K.CONTROL_FREE_COUNT) < rd + need) return 0;
  let freeIds = field(cb, K.CONTROL_FREE_HEAD);
  if (freeIds < chains) return 0;
  const stack = field(cb, K.CONTROL_LINKS);
  const positions = field(cb, K.CONTROL_SEGMENTS);
  const ids = field(cb, K.CONTROL_CHAIN_IDS);
  const lengths = field(cb, K.CONTROL_CHAIN_LENGTHS);
  let slot = field(cb, K.CONTROL_AVAIL_INDEX) + rd;
  while (slot >= size) slot -= size;
  for (let c: u32 = 0; c < chains; c++) {
    freeIds--;
    store<u16>(ids + (rc << 1), load<u16>(stack + (freeIds << 1)));
    store<u16>(lengths + (rc << 1), <u16>perChain);
    rc++;
    for (let k: u32 = 0; k < perChain; k++) {
      store<u16>(positions + (rd << 1), <u16>slot);
      rd++;
      slot++;
      if (slot == size) slot = 0;
    }
  }
  setField(cb, K.CONTROL_FREE_HEAD, freeIds);
  setField(cb, K.CONTROL_RESERVED_CHAINS, rc);
  setField(cb, K.CONTROL_RESERVED_DESCS, rd);
  return chains;
}

/** Writes the reserved chains into the ring; the first head's flags go last, as the single release. */
export function packedDriverPublish(cb: u32): u32 {
  const rc = field(cb, K.CONTROL_RESERVED_CHAINS);
  if (rc == 0) return 0;
  const size = field(cb, K.CONTROL_QUEUE_SIZE);
  const ring = field(cb, K.CONTROL_DESC);
  const specs = field(cb, K.CONTROL_INPUT);
  const ids = field(cb, K.CONTROL_CHAIN_IDS);
  const lengths = field(cb, K.CONTROL_CHAIN_LENGTHS);
  const inflight = field(cb, K.CONTROL_INFLIGHT);
  let slot = field(cb, K.CONTROL_AVAIL_INDEX);
  let wrap = field(cb, K.CONTROL_AVAIL_WRAP);
  let pos: u32 = 0;
  let firstFlagsAt: u32 = 0;
  let firstFlags: u32 = 0;
  for (let c: u32 = 0; c < rc; c++) {
    const len = <u32>load<u16>(lengths + (c << 1));
    const id = <u32>load<u16>(ids + (c << 1));
    for (let k: u32 = 0; k < len; k++) {
      const spec = specs + pos * K.BUFFER_SPEC_SIZE;
      const d = ring + slot * K.PACKED_DESC_SIZE;
      let flags = load<u32>(spec + K.BUFFER_SPEC_FLAGS) & (K.PACKED_F_WRITE | K.PACKED_F_INDIRECT);
      if (k + 1 < len) flags |= K.PACKED_F_NEXT;
      flags |= wrap != 0 ? K.PACKED_F_AVAIL : K.PACKED_F_USED;
      store<u64>(d + K.PACKED_DESC_ADDR, load<u64>(spec + K.BUFFER_SPEC_ADDR_LOW));
      store<u32>(d + K.PACKED_DESC_LEN, load<u32>(spec + K.BUFFER_SPEC_LENGTH));
      store<u16>(d + K.PACKED_DESC_ID, <u16>id);
      if (pos == 0) {
        firstFlagsAt = d + K.PACKED_DESC_FLAGS;
        firstFlags = flags;
      } else {
        store<u16>(d + K.PACKED_DESC_FLAGS, <u16>flags);
      }
      pos++;
      slot++;
      if (slot == size) { slot = 0; wrap ^= 1; }
    }
    store<u16>(inflight + (id << 1), <u16>len);
  }
  atomic.store<u16>(firstFlagsAt, <u16>firstFlags);
  setField(cb, K.CONTROL_AVAIL_INDEX, slot);
  setField(cb, K.CONTROL_AVAIL_WRAP, wrap);
  setField(cb, K.CONTROL_FREE_COUNT, field(cb, K.CONTROL_FREE_COUNT) - pos);
  setField(cb, K.CONTROL_RESERVED_CHAINS, 0);
  setField(cb, K.CONTROL_RESERVED_DESCS, 0);
  return rc;
}

/** Reads up to `max` used descriptors, frees their ids and slots, and writes {id, len} records. */
export function packedDriverReclaim(cb: u32, max: u32): u32 {
  const capacity = field(cb, K.CONTROL_OUT_CAPACITY);
  reclaimRecords = field(cb, K.CONTROL_OUT);
  return <u32>packedDriverReclaimFold<ReclaimRecords, u64>(cb, max < capacity ? max : capacity, 0);
}
