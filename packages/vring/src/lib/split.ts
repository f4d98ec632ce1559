// Split virtqueues on the TypeScript path (twin of wasm/lib/split.ts): the one chain walk the
// batch pops (src/engine-ts.ts) and the serve loop's uncommon chains share, and the three fused
// loops that run the caller's per-chain work inside the ring loop. The hot loops copy the layout
// numbers they use into locals: module constants are context loads on every use in a hot loop.
import * as K from '../generated/constants.js';
import type { ChainFiller, ChainHandler, CompletionFolder } from '../handlers.js';
import { failQueue, field, reject, setField } from './control.js';
import { HIGH_HALF, TWO_32, translateFirst } from './guest.js';
import { writeCompact, writeSegment } from './records.js';
import { U16, U32, VIEW, bind, type Views } from './views.js';

// The fused loops read and write a descriptor's flags and next as one u32 (flags in the low half).
if (K.SPLIT_DESC_FLAGS % 4 !== 0 || K.SPLIT_DESC_NEXT !== K.SPLIT_DESC_FLAGS + 2) {
  throw new Error('SPLIT_DESC: flags and next are no longer one aligned u32; update the fused loops');
}

// ---- chain walk ----

// Results of walkSplitChain beyond its reason (a walk has more results than one return value),
// in one typed array indexed by the WALK_* numbers.
export const walk = new Uint32Array(8);
export const WALK_READABLE = 0;
export const WALK_WRITABLE = 1;
export const WALK_READ_AT = 2;
export const WALK_READ_LEN = 3;
export const WALK_WRITE_AT = 4;
export const WALK_WRITE_LEN = 5;
/** Segment records used so far (the walk appends from `seg`). */
export const WALK_SEGMENTS = 6;
/** Non-zero when the segment records ran out: the chain was not consumed. */
export const WALK_FULL = 7;

/**
 * Walks and validates the whole chain at `head` (< size) with every rule: indices, loops,
 * INDIRECT tables, guest bounds, readable before writable. Returns 0 or the reject reason and
 * leaves the counts, the first readable / writable buffer and (unless `compact`) the segment
 * records in `walk`. Reads the bound views.
 */
export function walkSplitChain(
  header: number,
  table: number,
  size: number,
  indirectOk: boolean,
  has0: boolean,
  gpa0: number,
  size0: number,
  offset0: number,
  head: number,
  compact: boolean,
  segments: number,
  segmentCapacity: number,
  seg: number,
): number {
  const u16 = U16;
  const u32 = U32;
  const view = VIEW;
  let reason = 0;
  let readable = 0;
  let writable = 0;
  let readAt = 0;
  let readLen = 0;
  let writeAt = 0;
  let writeLen = 0;
  let full = false;
  let base = table;
  let entries = size;
  let index = head;
  let visited = 0;
  let inIndirect = false;
  for (;;) {
    visited++;
    if (visited > size) {
      reason = K.REJECT_CHAIN_TOO_LONG;
      break;
    }
    const d = base + index * K.SPLIT_DESC_SIZE;
    let low: number, high: number, len: number, flags: number, nextIndex: number;
    if (inIndirect) {
      // An indirect table may sit at any address: read it bytewise-safe.
      low = view.getUint32(d + K.SPLIT_DESC_ADDR, true);
      high = view.getUint32(d + K.SPLIT_DESC_ADDR + 4, true);
      len = view.getUint32(d + K.SPLIT_DESC_LEN, true);
      flags = view.getUint16(d + K.SPLIT_DESC_FLAGS, true);
      nextIndex = view.getUint16(d + K.SPLIT_DESC_NEXT, true);
    } else {
      const w = d >>> 2;
      low = u32[w + (K.SPLIT_DESC_ADDR >>> 2)]!;
      high = u32[w + (K.SPLIT_DESC_ADDR >>> 2) + 1]!;
      len = u32[w + (K.SPLIT_DESC_LEN >>> 2)]!;
      flags = u16[(d + K.SPLIT_DESC_FLAGS) >>> 1]!;
      nextIndex = u16[(d + K.SPLIT_DESC_NEXT) >>> 1]!;
    }
    if ((flags & K.SPLIT_F_INDIRECT) !== 0) {
      if (!indirectOk) {
        reason = K.REJECT_INDIRECT_NOT_NEGOTIATED;
        break;
      }
      if (inIndirect) {
        reason = K.REJECT_NESTED_INDIRECT;
        break;
      }
      if ((flags & K.SPLIT_F_NEXT) !== 0) {
        reason = K.REJECT_INDIRECT_WITH_NEXT;
        break;
      }
      if (len === 0 || len % K.SPLIT_DESC_SIZE !== 0) {
        reason = K.REJECT_INDIRECT_BAD_LENGTH;
        break;
      }
      const at = translateFirst(header, low, high, len, has0, gpa0, size0, offset0);
      if (at === 0) {
        reason = K.REJECT_INDIRECT_OUT_OF_BOUNDS;
        break;
      }
      base = at;
      entries = len / K.SPLIT_DESC_SIZE;
      index = 0;
      inIndirect = true;
      continue;
    }
    const at = translateFirst(header, low, high, len, has0, gpa0, size0, offset0);
    if (at === 0) {
      reason = K.REJECT_BUFFER_OUT_OF_BOUNDS;
      break;
    }
    if ((flags & K.SPLIT_F_WRITE) !== 0) {
      if (writable === 0) {
        writeAt = at;
        writeLen = len;
      }
      writable++;
    } else {
      if (writable !== 0) {
        reason = K.REJECT_READABLE_AFTER_WRITABLE;
        break;
      }
      if (readable === 0) {
        readAt = at;
        readLen = len;
      }
      readable++;
    }
    if (!compact) {
      if (seg === segmentCapacity) {
        full = true;
        break;
      }
      writeSegment(u32, segments, seg, at, len);
      seg++;
    }
    if ((flags & K.SPLIT_F_NEXT) === 0) break;
    index = nextIndex;
    if (index >= entries) {
      reason = K.REJECT_DESC_INDEX_OUT_OF_RANGE;
      break;
    }
  }
  const results = walk;
  results[WALK_READABLE] = readable;
  results[WALK_WRITABLE] = writable;
  results[WALK_READ_AT] = readAt;
  results[WALK_READ_LEN] = readLen;
  results[WALK_WRITE_AT] = writeAt;
  results[WALK_WRITE_LEN] = writeLen;
  results[WALK_SEGMENTS] = seg;
  results[WALK_FULL] = full ? 1 : 0;
  return reason;
}

/**
 * The compact pop's request/response path (as checkChain's in the core): when the chain at `head`
 * (< size) is one readable then one writable descriptor, both starting inside region 0 (which
 * lies below 2^31: small-integer arithmetic), writes its compact record at `rec` and returns
 * true. Any other chain returns false and is walked in full by walkSplitChain, so the results
 * never differ.
 */
export function pairCompact(
  u32: Uint32Array<ArrayBufferLike>,
  rec: number,
  table: number,
  size: number,
  gpa0: number,
  size0: number,
  offset0: number,
  head: number,
): boolean {
  const h = (table >>> 2) + head * (K.SPLIT_DESC_SIZE >>> 2);
  // flags and next as one u32 (adjacent, checked at load): flags in the low half.
  const hWord = u32[h + (K.SPLIT_DESC_FLAGS >>> 2)]!;
  const tail = hWord >>> 16;
  if ((hWord & 0xffff) !== K.SPLIT_F_NEXT || tail >= size) return false;
  const t = (table >>> 2) + tail * (K.SPLIT_DESC_SIZE >>> 2);
  const addr = K.SPLIT_DESC_ADDR >>> 2;
  if ((u32[t + (K.SPLIT_DESC_FLAGS >>> 2)]! & 0xffff) !== K.SPLIT_F_WRITE) return false;
  if (u32[h + addr + 1] !== 0 || u32[t + addr + 1] !== 0) return false;
  const hDelta = u32[h + addr]! - gpa0;
  const tDelta = u32[t + addr]! - gpa0;
  const hLen = u32[h + (K.SPLIT_DESC_LEN >>> 2)]!;
  const tLen = u32[t + (K.SPLIT_DESC_LEN >>> 2)]!;
  if (
    hDelta < 0 ||
    hDelta >= size0 ||
    hLen > size0 - hDelta ||
    tDelta < 0 ||
    tDelta >= size0 ||
    tLen > size0 - tDelta
  ) {
    return false;
  }
  writeCompact(u32, rec, head, 0, offset0 + hDelta, hLen, offset0 + tDelta, tLen, 1);
  return true;
}

/**
 * Validates any chain at `head` of the queue `cb` and writes its compact record at `rec` (a
 * rejected chain gets its reason and no buffers; `walk` holds the same). Returns 0 or
 * the reason.
 */
export function walkCompact(cb: number, rec: number, head: number): number {
  const u32 = U32;
  const size = field(cb, K.CONTROL_QUEUE_SIZE);
  const header = field(cb, K.CONTROL_MEMORY_HEADER);
  const r0 = (header + K.MEMORY_HEADER_REGIONS) >>> 2;
  const reason =
    head >= size
      ? K.REJECT_DESC_INDEX_OUT_OF_RANGE
      : walkSplitChain(
          header,
          field(cb, K.CONTROL_DESC),
          size,
          (field(cb, K.CONTROL_FEATURES) & K.FEATURE_INDIRECT) !== 0,
          u32[(header + K.MEMORY_HEADER_REGION_COUNT) >>> 2]! !== 0,
          u32[r0 + 1]! * TWO_32 + u32[r0]!,
          u32[r0 + 3]! * TWO_32 + u32[r0 + 2]!,
          u32[r0 + (K.REGION_ENTRY_OFFSET >>> 2)]!,
          head,
          true,
          0,
          0,
          0,
        );
  if (reason !== 0) walk.fill(0, WALK_READ_AT, WALK_WRITE_LEN + 1);
  writeCompact(
    u32,
    rec,
    head,
    reason,
    walk[WALK_READ_AT]!,
    walk[WALK_READ_LEN]!,
    walk[WALK_WRITE_AT]!,
    walk[WALK_WRITE_LEN]!,
    1,
  );
  return reason;
}

// ---- fused loops with the caller's per-chain work ----

/**
 * One device pass: one acquire of avail.idx, then per chain (up to `max`) validate all of it,
 * `handler.serve(...)` a valid one, write its used element (length 0 when rejected). Chains of
 * one readable then one writable descriptor inside region 0 are checked inline; any other chain
 * goes through walkCompact (the one chain walk), so the rules and reasons are the same.
 */
export function splitDeviceServe(v: Views, cb: number, max: number, handler: ChainHandler): number {
  bind(v);
  const u16 = v.u16;
  const u32 = v.u32;
  if (field(cb, K.CONTROL_STATUS) !== 0) return 0;
  const size = field(cb, K.CONTROL_QUEUE_SIZE);
  const mask = size - 1;
  const table = field(cb, K.CONTROL_DESC);
  const avail = field(cb, K.CONTROL_DRIVER_AREA);
  const used = field(cb, K.CONTROL_DEVICE_AREA);
  const header = field(cb, K.CONTROL_MEMORY_HEADER);
  const r0 = (header + K.MEMORY_HEADER_REGIONS) >>> 2;
  const gpa0 = u32[r0 + 1]! * TWO_32 + u32[r0]!;
  const size0 = u32[r0 + 3]! * TWO_32 + u32[r0 + 2]!;
  const offset0 = u32[r0 + (K.REGION_ENTRY_OFFSET >>> 2)]!;
  // The inline check works in small integers: region 0 must lie below 2^31.
  const inline = u32[(header + K.MEMORY_HEADER_REGION_COUNT) >>> 2]! !== 0 && gpa0 + size0 < HIGH_HALF;
  const rec = field(cb, K.CONTROL_OUT);
  const ring = (avail + K.SPLIT_AVAIL_RING) >>> 1;
  const usedRing = (used + K.SPLIT_USED_RING) >>> 2;
  const usedIdxAt = (used + K.SPLIT_USED_IDX) >>> 1;
  const descWords = K.SPLIT_DESC_SIZE >>> 2;
  const addrWord = K.SPLIT_DESC_ADDR >>> 2;
  const lenWord = K.SPLIT_DESC_LEN >>> 2;
  const flagsWord = K.SPLIT_DESC_FLAGS >>> 2;
  const nextFlag = K.SPLIT_F_NEXT;
  const writeFlag = K.SPLIT_F_WRITE;
  // Layout numbers in locals: module constants are context loads on every use in a hot loop.
  const elemWords = K.SPLIT_USED_ELEM_SIZE >>> 2;
  const elemId = K.SPLIT_USED_ELEM_ID >>> 2;
  const elemLen = K.SPLIT_USED_ELEM_LEN >>> 2;
  let next = field(cb, K.CONTROL_AVAIL_INDEX);
  const pending = (Atomics.load(u16, (avail + K.SPLIT_AVAIL_IDX) >>> 1) - next) & 0xffff;
  if (pending > size) {
    failQueue(cb, K.REJECT_AVAIL_INDEX_TOO_FAR);
    return 0;
  }
  const limit = pending < max ? pending : max;
  let idx = field(cb, K.CONTROL_USED_INDEX);
  for (let i = 0; i < limit; i++) {
    const head = u16[ring + (next & mask)]!;
    // The used length as an int32 (stored as its u32 bits); `served` tells the fast check took it.
    let len = 0;
    let served = false;
    if (inline && head < size) {
      const h = (table >>> 2) + head * descWords;
      // flags and next as one u32 (adjacent, checked at load): flags in the low half.
      const hWord = u32[h + flagsWord]!;
      const tail = hWord >>> 16;
      if ((hWord & 0xffff) === nextFlag && tail < size) {
        const t = (table >>> 2) + tail * descWords;
        if (
          (u32[t + flagsWord]! & 0xffff) === writeFlag &&
          u32[h + addrWord + 1] === 0 &&
          u32[t + addrWord + 1] === 0
        ) {
          const hDelta = u32[h + addrWord]! - gpa0;
          const tDelta = u32[t + addrWord]! - gpa0;
          const hLen = u32[h + lenWord]!;
          const tLen = u32[t + lenWord]!;
          if (
            hDelta >= 0 &&
            hDelta < size0 &&
            hLen <= size0 - hDelta &&
            tDelta >= 0 &&
            tDelta < size0 &&
            tLen <= size0 - tDelta
          ) {
            len = handler.serve(head, offset0 + hDelta, hLen, offset0 + tDelta, tLen) | 0;
            served = true;
          }
        }
      }
    }
    if (!served) {
      // Every other chain: the full walk (its compact record at `rec`, as the core's walkCompact).
      bind(v);
      const reason = walkCompact(cb, rec, head);
      if (reason !== 0) reject(cb, 1, reason);
      else
        len =
          handler.serve(head, walk[WALK_READ_AT]!, walk[WALK_READ_LEN]!, walk[WALK_WRITE_AT]!, walk[WALK_WRITE_LEN]!) |
          0;
    }
    next = (next + 1) & 0xffff;
    const elem = usedRing + (idx & mask) * elemWords;
    u32[elem + elemId] = head;
    u32[elem + elemLen] = len;
    idx = (idx + 1) & 0xffff;
    if (((i + 1) & 31) === 0) Atomics.store(u16, usedIdxAt, idx);
  }
  if ((limit & 31) !== 0) Atomics.store(u16, usedIdxAt, idx);
  bind(v);
  setField(cb, K.CONTROL_AVAIL_INDEX, next);
  setField(cb, K.CONTROL_USED_INDEX, idx);
  return limit;
}

/**
 * Submits `chains` chains of `perChain` descriptors built by `filler`, or none (0) when they do
 * not fit, a reserve() is pending or the sizes are out of range. Descriptor indices of chain c
 * go to descriptors[c * perChain ...]. One release of avail.idx.
 */
export function splitDriverSubmit(
  v: Views,
  cb: number,
  chains: number,
  perChain: number,
  filler: ChainFiller,
  descriptors: Uint16Array,
): number {
  bind(v);
  const u16 = v.u16;
  const u32 = v.u32;
  const size = field(cb, K.CONTROL_QUEUE_SIZE);
  if (chains === 0 || perChain === 0 || perChain > size || chains > size) return 0;
  const need = chains * perChain;
  const freeCount = field(cb, K.CONTROL_FREE_COUNT);
  if (freeCount < need || field(cb, K.CONTROL_RESERVED_CHAINS) !== 0 || need > field(cb, K.CONTROL_SEGMENT_CAPACITY))
    return 0;
  const mask = size - 1;
  const table = field(cb, K.CONTROL_DESC) >>> 2;
  const avail = field(cb, K.CONTROL_DRIVER_AREA);
  const links = field(cb, K.CONTROL_LINKS) >>> 1;
  const inflight = field(cb, K.CONTROL_INFLIGHT) >>> 1;
  const ring = (avail + K.SPLIT_AVAIL_RING) >>> 1;
  const descWords = K.SPLIT_DESC_SIZE >>> 2;
  const addrWord = K.SPLIT_DESC_ADDR >>> 2;
  const lenWord = K.SPLIT_DESC_LEN >>> 2;
  const flagsHalf = K.SPLIT_DESC_FLAGS >>> 1;
  const nextHalf = K.SPLIT_DESC_NEXT >>> 1;
  const flagsWord = K.SPLIT_DESC_FLAGS >>> 2;
  const keepFlags = K.SPLIT_F_WRITE | K.SPLIT_F_INDIRECT;
  const nextFlag = K.SPLIT_F_NEXT;
  const two32 = TWO_32;
  let free = field(cb, K.CONTROL_FREE_HEAD);
  let idx = field(cb, K.CONTROL_AVAIL_INDEX);
  for (let c = 0, first = 0; c < chains; c++, first += perChain) {
    const head = free;
    if (perChain === 2) {
      // Request/response chains, unrolled: the same descriptors and links as the loops below.
      const tail = u16[links + head]!;
      free = u16[links + tail]!;
      descriptors[first] = head;
      descriptors[first + 1] = tail;
      filler.fill(c, head, descriptors, first);
      const w = table + head * descWords;
      const t = table + tail * descWords;
      const headAddr = filler.address(c, 0, head);
      const tailAddr = filler.address(c, 1, tail);
      u32[w + addrWord] = headAddr >>> 0;
      u32[w + addrWord + 1] = headAddr < two32 ? 0 : Math.floor(headAddr / two32);
      u32[w + lenWord] = filler.length(c, 0, head);
      u32[w + flagsWord] = (filler.flags(c, 0, head) & keepFlags) | nextFlag | (tail << 16);
      u32[t + addrWord] = tailAddr >>> 0;
      u32[t + addrWord + 1] = tailAddr < two32 ? 0 : Math.floor(tailAddr / two32);
      u32[t + lenWord] = filler.length(c, 1, tail);
      u32[t + flagsWord] = filler.flags(c, 1, tail) & keepFlags;
      u16[inflight + head] = 2;
      u16[ring + (idx & mask)] = head;
      idx = (idx + 1) & 0xffff;
      continue;
    }
    // Taken in free-list order, so each descriptor's private link already names the next one.
    for (let k = 0; k < perChain; k++) {
      descriptors[first + k] = free;
      free = u16[links + free]!;
    }
    filler.fill(c, head, descriptors, first);
    for (let k = 0; k < perChain; k++) {
      const d = descriptors[first + k]!;
      const w = table + d * descWords;
      const addr = filler.address(c, k, d);
      let flags = filler.flags(c, k, d) & keepFlags;
      let nextIndex = 0;
      if (k + 1 < perChain) {
        flags |= nextFlag;
        nextIndex = descriptors[first + k + 1]!;
      }
      u32[w + addrWord] = addr >>> 0;
      u32[w + addrWord + 1] = addr < two32 ? 0 : Math.floor(addr / two32);
      u32[w + lenWord] = filler.length(c, k, d);
      u16[2 * w + flagsHalf] = flags;
      u16[2 * w + nextHalf] = nextIndex;
    }
    u16[inflight + head] = perChain;
    u16[ring + (idx & mask)] = head;
    idx = (idx + 1) & 0xffff;
  }
  bind(v);
  setField(cb, K.CONTROL_FREE_HEAD, free);
  setField(cb, K.CONTROL_FREE_COUNT, freeCount - need);
  setField(cb, K.CONTROL_AVAIL_INDEX, idx);
  Atomics.store(u16, (avail + K.SPLIT_AVAIL_IDX) >>> 1, idx);
  return chains;
}

/**
 * Reclaims up to `max` used elements after one acquire of used.idx, frees their chains and
 * folds each into `acc` with consumer.complete (bad ids are counted and skipped).
 */
export function splitDriverReclaimFold<A>(v: Views, cb: number, max: number, consumer: CompletionFolder<A>, acc: A): A {
  bind(v);
  const u16 = v.u16;
  const u32 = v.u32;
  if (field(cb, K.CONTROL_STATUS) !== 0) return acc;
  const size = field(cb, K.CONTROL_QUEUE_SIZE);
  const mask = size - 1;
  const used = field(cb, K.CONTROL_DEVICE_AREA);
  const links = field(cb, K.CONTROL_LINKS) >>> 1;
  const inflight = field(cb, K.CONTROL_INFLIGHT) >>> 1;
  const ring = (used + K.SPLIT_USED_RING) >>> 2;
  const elemWords = K.SPLIT_USED_ELEM_SIZE >>> 2;
  const elemId = K.SPLIT_USED_ELEM_ID >>> 2;
  const elemLen = K.SPLIT_USED_ELEM_LEN >>> 2;
  let last = field(cb, K.CONTROL_USED_INDEX);
  const usedIdx = Atomics.load(u16, (used + K.SPLIT_USED_IDX) >>> 1);
  if (((usedIdx - last) & 0xffff) > size) {
    failQueue(cb, K.REJECT_USED_INDEX_TOO_FAR);
    return acc;
  }
  let free = field(cb, K.CONTROL_FREE_HEAD);
  let freed = 0;
  let bad = 0;
  let n = 0;
  while (last !== usedIdx && n < max) {
    const elem = ring + (last & mask) * elemWords;
    const id = u32[elem + elemId]!;
    const len = u32[elem + elemLen]!;
    last = (last + 1) & 0xffff;
    const chainLength = id < size ? u16[inflight + id]! : 0;
    if (chainLength === 0) {
      bad++;
      continue;
    }
    u16[inflight + id] = 0;
    let tail = chainLength === 2 ? u16[links + id]! : id;
    for (let k = chainLength === 2 ? 2 : 1; k < chainLength; k++) tail = u16[links + tail]!;
    u16[links + tail] = free;
    free = id;
    freed += chainLength;
    acc = consumer.complete(acc, id, len);
    n++;
  }
  bind(v);
  setField(cb, K.CONTROL_USED_INDEX, last);
  setField(cb, K.CONTROL_FREE_HEAD, free);
  setField(cb, K.CONTROL_FREE_COUNT, field(cb, K.CONTROL_FREE_COUNT) + freed);
  if (bad !== 0) {
    setField(cb, K.CONTROL_ERRORS, (field(cb, K.CONTROL_ERRORS) + bad) >>> 0);
    setField(cb, K.CONTROL_LAST_ERROR, K.REJECT_USED_ID_NOT_IN_FLIGHT);
  }
  return acc;
}
