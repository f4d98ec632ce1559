// Packed virtqueues on the TypeScript path (twin of wasm/lib/packed.ts): the one packed chain
// walk (packedPop, behind both batch pops and the serve loop's uncommon chains), the
// used-descriptor writer, and the three fused loops with the caller's per-chain work.
import * as K from '../generated/constants.js';
import type { ChainFiller, ChainHandler, CompletionFolder } from '../handlers.js';
import { failQueue, field, reject, setField } from './control.js';
import { HIGH_HALF, TWO_32, translateFirst } from './guest.js';
import { writeChain, writeCompact, writeSegment } from './records.js';
import { U16, U32, VIEW, bind, type Views } from './views.js';

// The serve loop reads a descriptor's id and flags as one u32 (id in the low half).
if (K.PACKED_DESC_ID % 4 !== 0 || K.PACKED_DESC_FLAGS !== K.PACKED_DESC_ID + 2) {
  throw new Error('PACKED_DESC: id and flags are no longer one aligned u32; update packedDeviceServe');
}

export const isAvailable = (flags: number, wrap: number): boolean =>
  ((flags >>> K.PACKED_AVAIL_SHIFT) & 1) === wrap && ((flags >>> K.PACKED_USED_SHIFT) & 1) !== wrap;
export const isUsed = (flags: number, wrap: number): boolean =>
  ((flags >>> K.PACKED_AVAIL_SHIFT) & 1) === wrap && ((flags >>> K.PACKED_USED_SHIFT) & 1) === wrap;

/**
 * Pops up to `max` available chains of a packed ring (the one packed chain walk, INDIRECT
 * tables included), writing chain + segment records or, when `compact`, compact records, from
 * record index `first` of CONTROL_OUT.
 */
export function packedPop(cb: number, max: number, compact: boolean, first = 0): number {
  const u16 = U16;
  const u32 = U32;
  const view = VIEW;
  if (field(cb, K.CONTROL_STATUS) !== 0) return 0;
  const size = field(cb, K.CONTROL_QUEUE_SIZE);
  const ring = field(cb, K.CONTROL_DESC);
  const header = field(cb, K.CONTROL_MEMORY_HEADER);
  const r0 = (header + K.MEMORY_HEADER_REGIONS) >>> 2;
  const has0 = u32[(header + K.MEMORY_HEADER_REGION_COUNT) >>> 2]! !== 0;
  const gpa0 = u32[r0 + 1]! * TWO_32 + u32[r0]!;
  const size0 = u32[r0 + 3]! * TWO_32 + u32[r0 + 2]!;
  const offset0 = u32[r0 + (K.REGION_ENTRY_OFFSET >>> 2)]!;
  const indirectOk = (field(cb, K.CONTROL_FEATURES) & K.FEATURE_INDIRECT) !== 0;
  const out = field(cb, K.CONTROL_OUT) + first * K.COMPACT_RECORD_SIZE;
  const segments = field(cb, K.CONTROL_SEGMENTS);
  const segmentCapacity = field(cb, K.CONTROL_SEGMENT_CAPACITY);
  let limit = field(cb, K.CONTROL_OUT_CAPACITY);
  if (limit > max) limit = max;
  let slot = field(cb, K.CONTROL_AVAIL_INDEX);
  let wrap = field(cb, K.CONTROL_AVAIL_WRAP);

  let count = 0;
  let seg = 0;
  let rejected = 0;
  let lastReason = 0;
  while (count < limit) {
    const headFlags = Atomics.load(u16, (ring + slot * K.PACKED_DESC_SIZE + K.PACKED_DESC_FLAGS) >>> 1);
    if (!isAvailable(headFlags, wrap)) break;
    const first = seg;
    let reason = 0;
    let fatal = 0;
    let full = false;
    let readable = 0;
    let writable = 0;
    let readAt = 0;
    let readLen = 0;
    let writeAt = 0;
    let writeLen = 0;
    let visited = 0;
    let slots = 0;
    let id = 0;
    let s = slot;
    let w = wrap;
    for (;;) {
      slots++;
      if (slots > size) {
        fatal = K.REJECT_CHAIN_TOO_LONG;
        break;
      }
      const d = ring + s * K.PACKED_DESC_SIZE;
      const flags = slots === 1 ? headFlags : u16[(d + K.PACKED_DESC_FLAGS) >>> 1]!;
      if (slots !== 1 && !isAvailable(flags, w)) {
        fatal = K.REJECT_DESC_NOT_AVAILABLE;
        break;
      }
      id = u16[(d + K.PACKED_DESC_ID) >>> 1]!;
      if (reason === 0) {
        const dw = d >>> 2;
        const low = u32[dw + (K.PACKED_DESC_ADDR >>> 2)]!;
        const high = u32[dw + (K.PACKED_DESC_ADDR >>> 2) + 1]!;
        const len = u32[dw + (K.PACKED_DESC_LEN >>> 2)]!;
        if ((flags & K.PACKED_F_INDIRECT) !== 0) {
          if (!indirectOk) reason = K.REJECT_INDIRECT_NOT_NEGOTIATED;
          else if ((flags & K.PACKED_F_NEXT) !== 0) reason = K.REJECT_INDIRECT_WITH_NEXT;
          else if (len === 0 || len % K.PACKED_DESC_SIZE !== 0) reason = K.REJECT_INDIRECT_BAD_LENGTH;
          else {
            const table = translateFirst(header, low, high, len, has0, gpa0, size0, offset0);
            if (table === 0) reason = K.REJECT_INDIRECT_OUT_OF_BOUNDS;
            const entries = len / K.PACKED_DESC_SIZE;
            for (let e = 0; reason === 0 && e < entries; e++) {
              visited++;
              if (visited > size) {
                reason = K.REJECT_CHAIN_TOO_LONG;
                break;
              }
              const t = table + e * K.PACKED_DESC_SIZE;
              const tflags = view.getUint16(t + K.PACKED_DESC_FLAGS, true);
              if ((tflags & K.PACKED_F_INDIRECT) !== 0) {
                reason = K.REJECT_NESTED_INDIRECT;
                break;
              }
              const tlen = view.getUint32(t + K.PACKED_DESC_LEN, true);
              const at = translateFirst(
                header,
                view.getUint32(t + K.PACKED_DESC_ADDR, true),
                view.getUint32(t + K.PACKED_DESC_ADDR + 4, true),
                tlen,
                has0,
                gpa0,
                size0,
                offset0,
              );
              if (at === 0) {
                reason = K.REJECT_BUFFER_OUT_OF_BOUNDS;
                break;
              }
              if ((tflags & K.PACKED_F_WRITE) !== 0) {
                if (writable === 0) {
                  writeAt = at;
                  writeLen = tlen;
                }
                writable++;
              } else {
                if (writable !== 0) {
                  reason = K.REJECT_READABLE_AFTER_WRITABLE;
                  break;
                }
                if (readable === 0) {
                  readAt = at;
                  readLen = tlen;
                }
                readable++;
              }
              if (!compact) {
                if (seg === segmentCapacity) {
                  full = true;
                  break;
                }
                writeSegment(u32, segments, seg, at, tlen);
                seg++;
              }
            }
          }
        } else {
          visited++;
          const at = translateFirst(header, low, high, len, has0, gpa0, size0, offset0);
          if (visited > size) reason = K.REJECT_CHAIN_TOO_LONG;
          else if (at === 0) reason = K.REJECT_BUFFER_OUT_OF_BOUNDS;
          else {
            if ((flags & K.PACKED_F_WRITE) !== 0) {
              if (writable === 0) {
                writeAt = at;
                writeLen = len;
              }
              writable++;
            } else if (writable !== 0) {
              reason = K.REJECT_READABLE_AFTER_WRITABLE;
            } else {
              if (readable === 0) {
                readAt = at;
                readLen = len;
              }
              readable++;
            }
            if (!compact && reason === 0) {
              if (seg === segmentCapacity) {
                full = true;
              } else {
                writeSegment(u32, segments, seg, at, len);
                seg++;
              }
            }
          }
        }
      }
      if (full) break;
      s++;
      if (s === size) {
        s = 0;
        w ^= 1;
      }
      if ((flags & K.PACKED_F_NEXT) === 0) break;
    }
    if (fatal !== 0) {
      // The chains rejected before this one come first: lastError ends as the queue-level reason.
      reject(cb, rejected, lastReason);
      rejected = 0;
      failQueue(cb, fatal);
      break;
    }
    if (full) {
      seg = first;
      break;
    }
    if (reason === 0 && id >= size) reason = K.REJECT_BAD_BUFFER_ID;
    if (reason !== 0) {
      seg = first;
      readable = 0;
      writable = 0;
      rejected++;
      lastReason = reason;
      readAt = 0;
      readLen = 0;
      writeAt = 0;
      writeLen = 0;
    }
    if (compact)
      writeCompact(u32, out + count * K.COMPACT_RECORD_SIZE, id, reason, readAt, readLen, writeAt, writeLen, slots);
    else writeChain(u32, out + count * K.CHAIN_RECORD_SIZE, id, reason, readable, writable, first, slots);
    count++;
    slot = s;
    wrap = w;
  }
  setField(cb, K.CONTROL_AVAIL_INDEX, slot);
  setField(cb, K.CONTROL_AVAIL_WRAP, wrap);
  reject(cb, rejected, lastReason);
  return count;
}

/** Writes `count` used descriptors from the used records or the compact records; the first one's flags last. */
export function packedPush(cb: number, count: number, compact: boolean): number {
  const u16 = U16;
  const u32 = U32;
  const capacity = compact ? field(cb, K.CONTROL_OUT_CAPACITY) : field(cb, K.CONTROL_INPUT_CAPACITY);
  const n = count < capacity ? count : capacity;
  if (n === 0) return 0;
  const size = field(cb, K.CONTROL_QUEUE_SIZE);
  const ring = field(cb, K.CONTROL_DESC);
  const input = (compact ? field(cb, K.CONTROL_OUT) : field(cb, K.CONTROL_INPUT)) >>> 2;
  const recordWords = compact ? K.COMPACT_RECORD_SIZE >>> 2 : K.USED_RECORD_SIZE >>> 2;
  const slotsWord = compact ? K.COMPACT_RECORD_RING_SLOTS >>> 2 : K.USED_RECORD_RING_SLOTS >>> 2;
  const lengthWord = compact ? K.COMPACT_RECORD_USED_LENGTH >>> 2 : K.USED_RECORD_LENGTH >>> 2;
  const idWord = compact ? K.COMPACT_RECORD_ID >>> 2 : K.USED_RECORD_ID >>> 2;
  let slot = field(cb, K.CONTROL_USED_INDEX);
  let wrap = field(cb, K.CONTROL_USED_WRAP);
  let firstFlagsAt = 0;
  let firstFlags = 0;
  for (let i = 0; i < n; i++) {
    const rec = input + i * recordWords;
    let slots = u32[rec + slotsWord]!;
    if (slots === 0 || slots > size) slots = 1;
    const d = ring + slot * K.PACKED_DESC_SIZE;
    u32[(d + K.PACKED_DESC_LEN) >>> 2] = u32[rec + lengthWord]!;
    u16[(d + K.PACKED_DESC_ID) >>> 1] = u32[rec + idWord]! & 0xffff;
    const flags = wrap !== 0 ? K.PACKED_F_AVAIL | K.PACKED_F_USED : 0;
    if (i === 0) {
      firstFlagsAt = (d + K.PACKED_DESC_FLAGS) >>> 1;
      firstFlags = flags;
    } else {
      u16[(d + K.PACKED_DESC_FLAGS) >>> 1] = flags;
    }
    slot += slots;
    if (slot >= size) {
      slot -= size;
      wrap ^= 1;
    }
  }
  Atomics.store(u16, firstFlagsAt, firstFlags);
  setField(cb, K.CONTROL_USED_INDEX, slot);
  setField(cb, K.CONTROL_USED_WRAP, wrap);
  return n;
}

// ---- fused loops with the caller's per-chain work ----

/**
 * One device pass, up to `max` chains, in batches of CONTROL_OUT_CAPACITY chains: validate each
 * available chain in full, `handler.serve(...)` a valid one (a rejected chain gets used length
 * 0), then write the batch's used descriptors (packedPush, the first one's flags last). A batch
 * is read in full before any used descriptor is written (the ring, and indirect tables in it,
 * are shared with the used descriptors), as pop and push do; only each chain's id, ring slots
 * and used length go through its compact record. Chains of one readable then one writable
 * descriptor inside region 0 are checked inline; any other chain goes through packedPop (one
 * chain, compact), so the rules and reasons are the same.
 */
export function packedDeviceServe(v: Views, cb: number, max: number, handler: ChainHandler): number {
  bind(v);
  const u16 = v.u16;
  const u32 = v.u32;
  if (field(cb, K.CONTROL_STATUS) !== 0) return 0;
  const size = field(cb, K.CONTROL_QUEUE_SIZE);
  const ring = field(cb, K.CONTROL_DESC) >>> 2;
  const header = field(cb, K.CONTROL_MEMORY_HEADER);
  const r0 = (header + K.MEMORY_HEADER_REGIONS) >>> 2;
  const gpa0 = u32[r0 + 1]! * TWO_32 + u32[r0]!;
  const size0 = u32[r0 + 3]! * TWO_32 + u32[r0 + 2]!;
  const offset0 = u32[r0 + (K.REGION_ENTRY_OFFSET >>> 2)]!;
  // The inline check works in small integers (region 0 below 2^31) on chains of two slots.
  const inline = u32[(header + K.MEMORY_HEADER_REGION_COUNT) >>> 2]! !== 0 && gpa0 + size0 < HIGH_HALF && size >= 2;
  const batch = field(cb, K.CONTROL_OUT_CAPACITY);
  const records = field(cb, K.CONTROL_OUT) >>> 2;
  // Layout numbers in locals: module constants are context loads on every use in a hot loop.
  const descWords = K.PACKED_DESC_SIZE >>> 2;
  const addrWord = K.PACKED_DESC_ADDR >>> 2;
  const lenWord = K.PACKED_DESC_LEN >>> 2;
  const idWord = K.PACKED_DESC_ID >>> 2;
  const flagsHalf = K.PACKED_DESC_FLAGS >>> 1;
  const availShift = K.PACKED_AVAIL_SHIFT;
  const usedShift = K.PACKED_USED_SHIFT;
  const nextFlag = K.PACKED_F_NEXT;
  const writeFlag = K.PACKED_F_WRITE;
  const chainFlags = K.PACKED_F_NEXT | K.PACKED_F_WRITE | K.PACKED_F_INDIRECT;
  const recordWords = K.COMPACT_RECORD_SIZE >>> 2;
  const recId = K.COMPACT_RECORD_ID >>> 2;
  const recSlots = K.COMPACT_RECORD_RING_SLOTS >>> 2;
  const recUsed = K.COMPACT_RECORD_USED_LENGTH >>> 2;
  let slot = field(cb, K.CONTROL_AVAIL_INDEX);
  let wrap = field(cb, K.CONTROL_AVAIL_WRAP);
  let total = 0;
  let stopped = false;
  while (!stopped && total < max) {
    const want = max - total < batch ? max - total : batch;
    let n = 0;
    for (let rec = records; n < want; n++, rec += recordWords) {
      const h = ring + slot * descWords;
      const headFlags = Atomics.load(u16, 2 * h + flagsHalf);
      if (((headFlags >>> availShift) & 1) !== wrap || ((headFlags >>> usedShift) & 1) === wrap) {
        stopped = true;
        break;
      }
      let tailSlot = slot + 1;
      let tailWrap = wrap;
      if (tailSlot === size) {
        tailSlot = 0;
        tailWrap ^= 1;
      }
      const t = ring + tailSlot * descWords;
      // id and flags as one u32 (adjacent, checked at load): id in the low half.
      const tWord = u32[t + idWord]!;
      const tailFlags = tWord >>> 16;
      const id = tWord & 0xffff;
      let served = false;
      if (
        inline &&
        (headFlags & chainFlags) === nextFlag &&
        (tailFlags & chainFlags) === writeFlag &&
        ((tailFlags >>> availShift) & 1) === tailWrap &&
        ((tailFlags >>> usedShift) & 1) !== tailWrap &&
        id < size &&
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
          u32[rec + recId] = id;
          u32[rec + recSlots] = 2;
          u32[rec + recUsed] = handler.serve(id, offset0 + hDelta, hLen, offset0 + tDelta, tLen);
          served = true;
          slot = tailSlot + 1;
          wrap = tailWrap;
          if (slot === size) {
            slot = 0;
            wrap ^= 1;
          }
        }
      }
      if (!served) {
        // Every other chain: the full walk, one chain into this record (counts a rejection).
        bind(v);
        setField(cb, K.CONTROL_AVAIL_INDEX, slot);
        setField(cb, K.CONTROL_AVAIL_WRAP, wrap);
        // 0: a queue-level error stopped the queue at this chain.
        if (packedPop(cb, 1, true, n) === 0) {
          stopped = true;
          break;
        }
        slot = field(cb, K.CONTROL_AVAIL_INDEX);
        wrap = field(cb, K.CONTROL_AVAIL_WRAP);
        if (u32[rec + (K.COMPACT_RECORD_REASON >>> 2)] === 0) {
          u32[rec + recUsed] = handler.serve(
            u32[rec + recId]!,
            u32[rec + (K.COMPACT_RECORD_READ_OFFSET >>> 2)]!,
            u32[rec + (K.COMPACT_RECORD_READ_LENGTH >>> 2)]!,
            u32[rec + (K.COMPACT_RECORD_WRITE_OFFSET >>> 2)]!,
            u32[rec + (K.COMPACT_RECORD_WRITE_LENGTH >>> 2)]!,
          );
        }
      }
    }
    bind(v);
    setField(cb, K.CONTROL_AVAIL_INDEX, slot);
    setField(cb, K.CONTROL_AVAIL_WRAP, wrap);
    packedPush(cb, n, true);
    total += n;
  }
  return total;
}

/**
 * Submits `chains` chains of `perChain` descriptors on a packed ring built by `filler`, or none
 * (0), as packedDriverReserve + packedDriverPublish would. Chain c's ring slots go to
 * descriptors[c * perChain ...]. The first head's flags are written last.
 */
export function packedDriverSubmit(
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
  const freeSlots = field(cb, K.CONTROL_FREE_COUNT);
  let freeIds = field(cb, K.CONTROL_FREE_HEAD);
  if (
    freeSlots < need ||
    freeIds < chains ||
    field(cb, K.CONTROL_RESERVED_CHAINS) !== 0 ||
    need > field(cb, K.CONTROL_SEGMENT_CAPACITY)
  )
    return 0;
  const ring = field(cb, K.CONTROL_DESC) >>> 2;
  const stack = field(cb, K.CONTROL_LINKS) >>> 1;
  const inflight = field(cb, K.CONTROL_INFLIGHT) >>> 1;
  const descWords = K.PACKED_DESC_SIZE >>> 2;
  const addrWord = K.PACKED_DESC_ADDR >>> 2;
  const lenWord = K.PACKED_DESC_LEN >>> 2;
  const flagsHalf = K.PACKED_DESC_FLAGS >>> 1;
  const idHalf = K.PACKED_DESC_ID >>> 1;
  const keepFlags = K.PACKED_F_WRITE | K.PACKED_F_INDIRECT;
  const two32 = TWO_32;
  let slot = field(cb, K.CONTROL_AVAIL_INDEX);
  let wrap = field(cb, K.CONTROL_AVAIL_WRAP);
  let firstFlagsAt = 0;
  let firstFlags = 0;
  for (let c = 0, first = 0; c < chains; c++, first += perChain) {
    freeIds--;
    const id = u16[stack + freeIds]!;
    for (let k = 0, s = slot; k < perChain; k++) {
      descriptors[first + k] = s;
      s = s + 1 === size ? 0 : s + 1;
    }
    filler.fill(c, id, descriptors, first);
    for (let k = 0; k < perChain; k++) {
      const d = ring + slot * descWords;
      let flags = filler.flags(c, k, slot) & keepFlags;
      if (k + 1 < perChain) flags |= K.PACKED_F_NEXT;
      flags |= wrap !== 0 ? K.PACKED_F_AVAIL : K.PACKED_F_USED;
      const addr = filler.address(c, k, slot);
      u32[d + addrWord] = addr >>> 0;
      u32[d + addrWord + 1] = addr < two32 ? 0 : Math.floor(addr / two32);
      u32[d + lenWord] = filler.length(c, k, slot);
      u16[2 * d + idHalf] = id;
      if (c === 0 && k === 0) {
        firstFlagsAt = 2 * d + flagsHalf;
        firstFlags = flags;
      } else {
        u16[2 * d + flagsHalf] = flags;
      }
      slot++;
      if (slot === size) {
        slot = 0;
        wrap ^= 1;
      }
    }
    u16[inflight + id] = perChain;
  }
  Atomics.store(u16, firstFlagsAt, firstFlags);
  bind(v);
  setField(cb, K.CONTROL_AVAIL_INDEX, slot);
  setField(cb, K.CONTROL_AVAIL_WRAP, wrap);
  setField(cb, K.CONTROL_FREE_COUNT, freeSlots - need);
  setField(cb, K.CONTROL_FREE_HEAD, freeIds);
  return chains;
}

/**
 * Reclaims up to `max` used descriptors of a packed ring, frees their ids and slots and folds each
 * into `acc` (an id not in flight is a queue-level error and ends the call).
 */
export function packedDriverReclaimFold<A>(
  v: Views,
  cb: number,
  max: number,
  consumer: CompletionFolder<A>,
  acc: A,
): A {
  bind(v);
  const u16 = v.u16;
  const u32 = v.u32;
  if (field(cb, K.CONTROL_STATUS) !== 0) return acc;
  const size = field(cb, K.CONTROL_QUEUE_SIZE);
  const ring = field(cb, K.CONTROL_DESC);
  const stack = field(cb, K.CONTROL_LINKS) >>> 1;
  const inflight = field(cb, K.CONTROL_INFLIGHT) >>> 1;
  let slot = field(cb, K.CONTROL_USED_INDEX);
  let wrap = field(cb, K.CONTROL_USED_WRAP);
  let freeIds = field(cb, K.CONTROL_FREE_HEAD);
  let freed = 0;
  let n = 0;
  while (n < max) {
    const d = ring + slot * K.PACKED_DESC_SIZE;
    const flags = Atomics.load(u16, (d + K.PACKED_DESC_FLAGS) >>> 1);
    if (!isUsed(flags, wrap)) break;
    const id = u16[(d + K.PACKED_DESC_ID) >>> 1]!;
    const len = u32[(d + K.PACKED_DESC_LEN) >>> 2]!;
    const chainLength = id < size ? u16[inflight + id]! : 0;
    if (chainLength === 0) {
      bind(v);
      failQueue(cb, K.REJECT_USED_ID_NOT_IN_FLIGHT);
      break;
    }
    u16[inflight + id] = 0;
    u16[stack + freeIds] = id;
    freeIds++;
    freed += chainLength;
    slot += chainLength;
    if (slot >= size) {
      slot -= size;
      wrap ^= 1;
    }
    acc = consumer.complete(acc, id, len);
    n++;
  }
  bind(v);
  setField(cb, K.CONTROL_USED_INDEX, slot);
  setField(cb, K.CONTROL_USED_WRAP, wrap);
  setField(cb, K.CONTROL_FREE_HEAD, freeIds);
  setField(cb, K.CONTROL_FREE_COUNT, field(cb, K.CONTROL_FREE_COUNT) + freed);
  return acc;
}
