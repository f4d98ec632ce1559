// Packed virtqueues in the linkable library of the WebAssembly core: the chain walk the core's
// batch calls are built on, and the three batch loops with the caller's per-chain work (the
// packed twins of lib/split.ts; see there and the package README).
import * as K from "../generated/constants";
import { failQueue, field, reject, setField } from "./control";
import { translateFirst } from "./guest";
import { region0Length } from "./split";
import { writeChain, writeCompact } from "./records";

// Bit positions of id and flags inside the u64 at PACKED_DESC_LEN (little-endian; the build
// checks that len, id and flags are adjacent).
const ID_SHIFT: u64 = <u64>((K.PACKED_DESC_ID - K.PACKED_DESC_LEN) * 8);
const FLAGS_SHIFT: u64 = <u64>((K.PACKED_DESC_FLAGS - K.PACKED_DESC_LEN) * 8);

/** Writes one descriptor, flags included, as two u64 stores. */
@inline function storePackedDescriptor(entry: u32, addr: u64, len: u32, id: u32, flags: u32): void {
  store<u64>(entry + K.PACKED_DESC_ADDR, addr);
  store<u64>(entry + K.PACKED_DESC_LEN, <u64>len | (<u64>(id & 0xffff) << ID_SHIFT) | (<u64>(flags & 0xffff) << FLAGS_SHIFT));
}

@inline export function isAvailable(flags: u32, wrap: u32): bool {
  return ((flags >> K.PACKED_AVAIL_SHIFT) & 1) == wrap && ((flags >> K.PACKED_USED_SHIFT) & 1) != wrap;
}

@inline export function isUsed(flags: u32, wrap: u32): bool {
  return ((flags >> K.PACKED_AVAIL_SHIFT) & 1) == wrap && ((flags >> K.PACKED_USED_SHIFT) & 1) == wrap;
}

/**
 * Pops up to `max` available chains into records from index `first` of CONTROL_OUT (compact
 * records, or chain + segment records). Returns the count.
 */
@inline export function packedPop(cb: u32, max: u32, compact: bool, first: u32 = 0): u32 {
  if (field(cb, K.CONTROL_STATUS) != 0) return 0;
  const size = field(cb, K.CONTROL_QUEUE_SIZE);
  const ring = field(cb, K.CONTROL_DESC);
  const header = field(cb, K.CONTROL_MEMORY_HEADER);
  const has0 = load<u32>(header + K.MEMORY_HEADER_REGION_COUNT) != 0;
  const gpa0 = load<u64>(header + K.MEMORY_HEADER_REGIONS + K.REGION_ENTRY_GPA);
  const size0 = load<u64>(header + K.MEMORY_HEADER_REGIONS + K.REGION_ENTRY_LENGTH);
  const offset0 = load<u32>(header + K.MEMORY_HEADER_REGIONS + K.REGION_ENTRY_OFFSET);
  const indirectOk = (field(cb, K.CONTROL_FEATURES) & K.FEATURE_INDIRECT) != 0;
  const out = field(cb, K.CONTROL_OUT) + first * K.COMPACT_RECORD_SIZE;
  const segments = field(cb, K.CONTROL_SEGMENTS);
  const segmentCapacity = field(cb, K.CONTROL_SEGMENT_CAPACITY);
  let limit = field(cb, K.CONTROL_OUT_CAPACITY);
  if (limit > max) limit = max;
  let slot = field(cb, K.CONTROL_AVAIL_INDEX);
  let wrap = field(cb, K.CONTROL_AVAIL_WRAP);

  let count: u32 = 0;
  let seg: u32 = 0;
  let rejected: u32 = 0;
  let lastReason: u32 = 0;
  while (count < limit) {
    const headFlags = <u32>atomic.load<u16>(ring + slot * K.PACKED_DESC_SIZE + K.PACKED_DESC_FLAGS);
    if (!isAvailable(headFlags, wrap)) break;
    const first = seg;
    let reason: u32 = 0;
    let fatal: u32 = 0;
    let full = false;
    let readable: u32 = 0;
    let writable: u32 = 0;
    let readAt: u32 = 0;
    let readLen: u32 = 0;
    let writeAt: u32 = 0;
    let writeLen: u32 = 0;
    let visited: u32 = 0;
    let slots: u32 = 0;
    let id: u32 = 0;
    let s = slot;
    let w = wrap;
    while (true) {
      slots++;
      if (slots > size) { fatal = K.REJECT_CHAIN_TOO_LONG; break; }
      const d = ring + s * K.PACKED_DESC_SIZE;
      const flags = slots == 1 ? headFlags : <u32>load<u16>(d + K.PACKED_DESC_FLAGS);
      if (slots != 1 && !isAvailable(flags, w)) { fatal = K.REJECT_DESC_NOT_AVAILABLE; break; }
      id = <u32>load<u16>(d + K.PACKED_DESC_ID);
      if (reason == 0) {
        const addr = load<u64>(d + K.PACKED_DESC_ADDR);
        const len = load<u32>(d + K.PACKED_DESC_LEN);
        if ((flags & K.PACKED_F_INDIRECT) != 0) {
          if (!indirectOk) reason = K.REJECT_INDIRECT_NOT_NEGOTIATED;
          else if ((flags & K.PACKED_F_NEXT) != 0) reason = K.REJECT_INDIRECT_WITH_NEXT;
          else if (len == 0 || len % K.PACKED_DESC_SIZE != 0) reason = K.REJECT_INDIRECT_BAD_LENGTH;
          else {
            const table = translateFirst(header, addr, <u64>len, has0, gpa0, size0, offset0);
            if (table == 0) reason = K.REJECT_INDIRECT_OUT_OF_BOUNDS;
            const entries = len / K.PACKED_DESC_SIZE;
            for (let e: u32 = 0; reason == 0 && e < entries; e++) {
              visited++;
              if (visited > size) { reason = K.REJECT_CHAIN_TOO_LONG; break; }
              const t = table + e * K.PACKED_DESC_SIZE;
              const tflags = <u32>load<u16>(t + K.PACKED_DESC_FLAGS);
              if ((tflags & K.PACKED_F_INDIRECT) != 0) { reason = K.REJECT_NESTED_INDIRECT; break; }
              const tlen = load<u32>(t + K.PACKED_DESC_LEN);
              const at = translateFirst(header, load<u64>(t + K.PACKED_DESC_ADDR), <u64>tlen, has0, gpa0, size0, offset0);
              if (at == 0) { reason = K.REJECT_BUFFER_OUT_OF_BOUNDS; break; }
              if ((tflags & K.PACKED_F_WRITE) != 0) {
                if (compact && writable == 0) { writeAt = at; writeLen = tlen; }
                writable++;
              } else {
                if (writable != 0) { reason = K.REJECT_READABLE_AFTER_WRITABLE; break; }
                if (compact && readable == 0) { readAt = at; readLen = tlen; }
                readable++;
              }
              if (!compact) {
                if (seg == segmentCapacity) { full = true; break; }
                const r = segments + seg * K.SEGMENT_RECORD_SIZE;
                store<u32>(r + K.SEGMENT_RECORD_OFFSET, at);
                store<u32>(r + K.SEGMENT_RECORD_LENGTH, tlen);
                seg++;
              }
            }
          }
        } else {
          visited++;
          const at = translateFirst(header, addr, <u64>len, has0, gpa0, size0, offset0);
          if (visited > size) reason = K.REJECT_CHAIN_TOO_LONG;
          else if (at == 0) reason = K.REJECT_BUFFER_OUT_OF_BOUNDS;
          else {
            if ((flags & K.PACKED_F_WRITE) != 0) {
              if (compact && writable == 0) { writeAt = at; writeLen = len; }
              writable++;
            } else if (writable != 0) {
              reason = K.REJECT_READABLE_AFTER_WRITABLE;
            } else {
              if (compact && readable == 0) { readAt = at; readLen = len; }
              readable++;
            }
            if (!compact && reason == 0) {
              if (seg == segmentCapacity) {
                full = true;
              } else {
                const r = segments + seg * K.SEGMENT_RECORD_SIZE;
                store<u32>(r + K.SEGMENT_RECORD_OFFSET, at);
                store<u32>(r + K.SEGMENT_RECORD_LENGTH, len);
                seg++;
              }
            }
          }
        }
      }
      if (full) break;
      s++;
      if (s == size) { s = 0; w ^= 1; }
      if ((flags & K.PACKED_F_NEXT) == 0) break;
    }
    if (fatal != 0) {
      // The chains rejected before this one come first: lastError ends as the queue-level reason.
      reject(cb, rejected, lastReason);
      rejected = 0;
      failQueue(cb, fatal);
      break;
    }
    if (full) { seg = first; break; }
    if (reason == 0 && id >= size) reason = K.REJECT_BAD_BUFFER_ID;
    if (reason != 0) {
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
    if (compact) writeCompact(out + count * K.COMPACT_RECORD_SIZE, id, reason, readAt, readLen, writeAt, writeLen, slots);
    else writeChain(out + count * K.CHAIN_RECORD_SIZE, id, reason, readable, writable, first, slots);
    count++;
    slot = s;
    wrap = w;
  }
  setField(cb, K.CONTROL_AVAIL_INDEX, slot);
  setField(cb, K.CONTROL_AVAIL_WRAP, wrap);
  reject(cb, rejected, lastReason);
  return count;
}


// ---- batch loops with the caller's per-chain work (see lib/split.ts for the conventions) -------

@inline export function packedPush(cb: u32, count: u32, compact: bool): u32 {
  const capacity = compact ? field(cb, K.CONTROL_OUT_CAPACITY) : field(cb, K.CONTROL_INPUT_CAPACITY);
  const n = count < capacity ? count : capacity;
  if (n == 0) return 0;
  const size = field(cb, K.CONTROL_QUEUE_SIZE);
  const ring = field(cb, K.CONTROL_DESC);
  const input = compact ? field(cb, K.CONTROL_OUT) : field(cb, K.CONTROL_INPUT);
  let slot = field(cb, K.CONTROL_USED_INDEX);
  let wrap = field(cb, K.CONTROL_USED_WRAP);
  let firstFlagsAt: u32 = 0;
  let firstFlags: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const rec = input + i * (compact ? K.COMPACT_RECORD_SIZE : K.USED_RECORD_SIZE);
    let slots = load<u32>(rec + (compact ? K.COMPACT_RECORD_RING_SLOTS : K.USED_RECORD_RING_SLOTS));
    if (slots == 0 || slots > size) slots = 1;
    const d = ring + slot * K.PACKED_DESC_SIZE;
    store<u32>(d + K.PACKED_DESC_LEN, load<u32>(rec + (compact ? K.COMPACT_RECORD_USED_LENGTH : K.USED_RECORD_LENGTH)));
    store<u16>(d + K.PACKED_DESC_ID, <u16>load<u32>(rec + (compact ? K.COMPACT_RECORD_ID : K.USED_RECORD_ID)));
    const flags = wrap != 0 ? (K.PACKED_F_AVAIL | K.PACKED_F_USED) : 0;
    if (i == 0) {
      firstFlagsAt = d + K.PACKED_DESC_FLAGS;
      firstFlags = flags;
    } else {
      store<u16>(d + K.PACKED_DESC_FLAGS, <u16>flags);
    }
    slot += slots;
    if (slot >= size) { slot -= size; wrap ^= 1; }
  }
  atomic.store<u16>(firstFlagsAt, <u16>firstFlags);
  setField(cb, K.CONTROL_USED_INDEX, slot);
  setField(cb, K.CONTROL_USED_WRAP, wrap);
  return n;
}

/** packedPop of one chain into compact record `first`, out of line (the serve loop's full walk). */
export function packedPopCompactAt(cb: u32, first: u32): u32 {
  return packedPop(cb, 1, true, first);
}

/** packedPush from the compact records, out of line (the serve loop's used descriptors). */
export function packedPushCompact(cb: u32, count: u32): u32 {
  return packedPush(cb, count, true);
}


/**
 * One device pass over a packed ring, up to `max` chains, in batches of CONTROL_OUT_CAPACITY
 * chains: for each available chain, validate all of it and call `H.serve(id, readAt, readLen,
 * writeAt, writeLen): u32` for a valid one (its first readable and first writable buffer; a
 * rejected chain is not served and gets used length 0), then write the batch's used descriptors
 * (packedPushCompact, the first one's flags last). Available and used descriptors share one ring
 * (and an indirect table may lie in it), so a batch is read in full before any used descriptor
 * is written, as pop and push do; only the id, ring slots and used length of each chain go
 * through its compact record. Chains of one readable then one writable descriptor inside region
 * 0 are checked here, straight-line; every other chain goes through packedPopCompactAt (the one
 * packed chain walk), so the rules and reasons are the same. Returns the chains consumed.
 */
export function packedDeviceServe<H>(cb: u32, max: u32): u32 {
  if (field(cb, K.CONTROL_STATUS) != 0) return 0;
  const size = field(cb, K.CONTROL_QUEUE_SIZE);
  const ring = field(cb, K.CONTROL_DESC);
  const header = field(cb, K.CONTROL_MEMORY_HEADER);
  const gpa0 = load<u64>(header + K.MEMORY_HEADER_REGIONS + K.REGION_ENTRY_GPA);
  const size0 = region0Length(header);
  const offset0 = load<u32>(header + K.MEMORY_HEADER_REGIONS + K.REGION_ENTRY_OFFSET);
  const batch = field(cb, K.CONTROL_OUT_CAPACITY);
  const records = field(cb, K.CONTROL_OUT);
  const handler = changetype<H>(0);
  // A two-descriptor chain fits the ring (more slots than the queue size is CHAIN_TOO_LONG).
  const pairs = size >= 2;
  const chainFlags = K.PACKED_F_NEXT | K.PACKED_F_WRITE | K.PACKED_F_INDIRECT;
  let slot = field(cb, K.CONTROL_AVAIL_INDEX);
  let wrap = field(cb, K.CONTROL_AVAIL_WRAP);
  let total: u32 = 0;
  let stopped = false;
  while (!stopped && total < max) {
    const want = max - total < batch ? max - total : batch;
    let n: u32 = 0;
    while (n < want) {
      const h = ring + slot * K.PACKED_DESC_SIZE;
      const headFlags = <u32>atomic.load<u16>(h + K.PACKED_DESC_FLAGS);
      if (!isAvailable(headFlags, wrap)) { stopped = true; break; }
      const rec = records + n * K.COMPACT_RECORD_SIZE;
      let tailSlot = slot + 1;
      let tailWrap = wrap;
      if (tailSlot == size) { tailSlot = 0; tailWrap ^= 1; }
      const t = ring + tailSlot * K.PACKED_DESC_SIZE;
      const tailFlags = <u32>load<u16>(t + K.PACKED_DESC_FLAGS);
      const id = <u32>load<u16>(t + K.PACKED_DESC_ID);
      // Regions end below 2^53, so an address below gpa0 wraps to a delta far above size0 (see
      // checkChain in lib/split.ts for the same test).
      const hDelta = load<u64>(h + K.PACKED_DESC_ADDR) - gpa0;
      const tDelta = load<u64>(t + K.PACKED_DESC_ADDR) - gpa0;
      const hLen = load<u32>(h + K.PACKED_DESC_LEN);
      const tLen = load<u32>(t + K.PACKED_DESC_LEN);
      if (
        pairs && (headFlags & chainFlags) == K.PACKED_F_NEXT && (tailFlags & chainFlags) == K.PACKED_F_WRITE &&
        isAvailable(tailFlags, tailWrap) && id < size &&
        hDelta < size0 && <u64>hLen <= size0 - hDelta && tDelta < size0 && <u64>tLen <= size0 - tDelta
      ) {
        store<u32>(rec + K.COMPACT_RECORD_ID, id);
        store<u32>(rec + K.COMPACT_RECORD_RING_SLOTS, 2);
        // @ts-ignore: H is the caller's handler class
        store<u32>(rec + K.COMPACT_RECORD_USED_LENGTH, handler.serve(id, offset0 + <u32>hDelta, hLen, offset0 + <u32>tDelta, tLen));
        slot = tailSlot + 1;
        wrap = tailWrap;
        if (slot == size) { slot = 0; wrap ^= 1; }
      } else {
        setField(cb, K.CONTROL_AVAIL_INDEX, slot);
        setField(cb, K.CONTROL_AVAIL_WRAP, wrap);
        // 0: a queue-level error stopped the queue at this chain (packedPop counted it).
        if (packedPopCompactAt(cb, n) == 0) { stopped = true; break; }
        slot = field(cb, K.CONTROL_AVAIL_INDEX);
        wrap = field(cb, K.CONTROL_AVAIL_WRAP);
        if (load<u32>(rec + K.COMPACT_RECORD_REASON) == 0) {
          // @ts-ignore: H is the caller's handler class
          const len: u32 = handler.serve(load<u32>(rec + K.COMPACT_RECORD_ID), load<u32>(rec + K.COMPACT_RECORD_READ_OFFSET),
            load<u32>(rec + K.COMPACT_RECORD_READ_LENGTH), load<u32>(rec + K.COMPACT_RECORD_WRITE_OFFSET), load<u32>(rec + K.COMPACT_RECORD_WRITE_LENGTH));
          store<u32>(rec + K.COMPACT_RECORD_USED_LENGTH, len);
        }
      }
      n++;
    }
    setField(cb, K.CONTROL_AVAIL_INDEX, slot);
    setField(cb, K.CONTROL_AVAIL_WRAP, wrap);
    packedPushCompact(cb, n);
    total += n;
  }
  return total;
}

/**
 * Submits `chains` chains of `perChain` descriptors on a packed ring, or none (returns 0) when
 * fewer buffer ids or ring slots are free, the sizes are out of range (at most the batch size of
 * chains) or a reserve() is pending. Chain c takes the top free buffer id and the next
 * `perChain` ring slots (written at CONTROL_SEGMENTS + 2 * c * perChain); `F.fill(chain, id,
 * slots)` writes the request, then descriptor k gets `F.address / length / flags(chain, k, slot)`
 * (WRITE / INDIRECT; NEXT and the wrap bits are added here). The first head's flags are
 * written last, as the single release. Returns `chains`.
 */
export function packedDriverSubmit<F>(cb: u32, chains: u32, perChain: u32): u32 {
  const size = field(cb, K.CONTROL_QUEUE_SIZE);
  if (chains == 0 || perChain == 0 || perChain > size || chains > field(cb, K.CONTROL_OUT_CAPACITY)) return 0;
  const need = chains * perChain;
  const freeSlots = field(cb, K.CONTROL_FREE_COUNT);
  let freeIds = field(cb, K.CONTROL_FREE_HEAD);
  if (freeSlots < need || freeIds < chains || field(cb, K.CONTROL_RESERVED_CHAINS) != 0) return 0;
  if (need > field(cb, K.CONTROL_SEGMENT_CAPACITY)) return 0;
  const ring = field(cb, K.CONTROL_DESC);
  const stack = field(cb, K.CONTROL_LINKS);
  const inflight = field(cb, K.CONTROL_INFLIGHT);
  const filler = changetype<F>(0);
  let slots = field(cb, K.CONTROL_SEGMENTS);
  let slot = field(cb, K.CONTROL_AVAIL_INDEX);
  let wrap = field(cb, K.CONTROL_AVAIL_WRAP);
  let firstFlagsAt: u32 = 0;
  let firstFlags: u32 = 0;
  for (let c: u32 = 0; c < chains; c++, slots += perChain << 1) {
    freeIds--;
    const id = <u32>load<u16>(stack + (freeIds << 1));
    if (perChain == 2 && c != 0) {
      // Request/response chains after the first (whose head flags go last), unrolled: len, id
      // and flags as one u64 per descriptor (the build checks the three fields adjacent).
      const tailSlot = slot + 1 == size ? 0 : slot + 1;
      const tailWrap = slot + 1 == size ? wrap ^ 1 : wrap;
      store<u32>(slots, slot | (tailSlot << 16));
      // @ts-ignore: F is the caller's filler class
      filler.fill(c, id, slots);
      const h = ring + slot * K.PACKED_DESC_SIZE;
      const t = ring + tailSlot * K.PACKED_DESC_SIZE;
      // @ts-ignore
      const headFlags = (filler.flags(c, 0, slot) & (K.PACKED_F_WRITE | K.PACKED_F_INDIRECT)) | K.PACKED_F_NEXT | (wrap != 0 ? K.PACKED_F_AVAIL : K.PACKED_F_USED);
      // @ts-ignore
      const tailFlags = (filler.flags(c, 1, tailSlot) & (K.PACKED_F_WRITE | K.PACKED_F_INDIRECT)) | (tailWrap != 0 ? K.PACKED_F_AVAIL : K.PACKED_F_USED);
      // @ts-ignore
      storePackedDescriptor(h, filler.address(c, 0, slot), filler.length(c, 0, slot), id, headFlags);
      // @ts-ignore
      storePackedDescriptor(t, filler.address(c, 1, tailSlot), filler.length(c, 1, tailSlot), id, tailFlags);
      slot = tailSlot + 1;
      wrap = tailWrap;
      if (slot == size) { slot = 0; wrap ^= 1; }
      store<u16>(inflight + (id << 1), 2);
      continue;
    }
    let s = slot;
    for (let k: u32 = 0; k < perChain; k++) {
      store<u16>(slots + (k << 1), <u16>s);
      s = s + 1 == size ? 0 : s + 1;
    }
    // @ts-ignore: F is the caller's filler class
    filler.fill(c, id, slots);
    for (let k: u32 = 0; k < perChain; k++) {
      const d = ring + slot * K.PACKED_DESC_SIZE;
      // @ts-ignore
      let flags = filler.flags(c, k, slot) & (K.PACKED_F_WRITE | K.PACKED_F_INDIRECT);
      if (k + 1 < perChain) flags |= K.PACKED_F_NEXT;
      flags |= wrap != 0 ? K.PACKED_F_AVAIL : K.PACKED_F_USED;
      // @ts-ignore
      store<u64>(d + K.PACKED_DESC_ADDR, filler.address(c, k, slot));
      // @ts-ignore
      store<u32>(d + K.PACKED_DESC_LEN, filler.length(c, k, slot));
      store<u16>(d + K.PACKED_DESC_ID, <u16>id);
      if (c == 0 && k == 0) {
        firstFlagsAt = d + K.PACKED_DESC_FLAGS;
        firstFlags = flags;
      } else {
        store<u16>(d + K.PACKED_DESC_FLAGS, <u16>flags);
      }
      slot++;
      if (slot == size) { slot = 0; wrap ^= 1; }
    }
    store<u16>(inflight + (id << 1), <u16>perChain);
  }
  atomic.store<u16>(firstFlagsAt, <u16>firstFlags);
  setField(cb, K.CONTROL_AVAIL_INDEX, slot);
  setField(cb, K.CONTROL_AVAIL_WRAP, wrap);
  setField(cb, K.CONTROL_FREE_COUNT, freeSlots - need);
  setField(cb, K.CONTROL_FREE_HEAD, freeIds);
  return chains;
}

/**
 * Reclaims up to `max` used descriptors of a packed ring: checks that each id is in flight (an id
 * that is not is a queue-level error, USED_ID_NOT_IN_FLIGHT, and ends the call), frees the id
 * and its slots and folds the completion into `acc` with `acc = C.complete(acc, id, len): A`.
 * Returns the final accumulator.
 */
export function packedDriverReclaimFold<C, A>(cb: u32, max: u32, acc: A): A {
  if (field(cb, K.CONTROL_STATUS) != 0) return acc;
  const size = field(cb, K.CONTROL_QUEUE_SIZE);
  const ring = field(cb, K.CONTROL_DESC);
  const stack = field(cb, K.CONTROL_LINKS);
  const inflight = field(cb, K.CONTROL_INFLIGHT);
  const consumer = changetype<C>(0);
  let slot = field(cb, K.CONTROL_USED_INDEX);
  let wrap = field(cb, K.CONTROL_USED_WRAP);
  let freeIds = field(cb, K.CONTROL_FREE_HEAD);
  let freed: u32 = 0;
  let n: u32 = 0;
  while (n < max) {
    const d = ring + slot * K.PACKED_DESC_SIZE;
    const flags = <u32>atomic.load<u16>(d + K.PACKED_DESC_FLAGS);
    if (!isUsed(flags, wrap)) break;
    const id = <u32>load<u16>(d + K.PACKED_DESC_ID);
    const len = load<u32>(d + K.PACKED_DESC_LEN);
    const chainLength = id < size ? <u32>load<u16>(inflight + (id << 1)) : 0;
    if (chainLength == 0) {
      failQueue(cb, K.REJECT_USED_ID_NOT_IN_FLIGHT);
      break;
    }
    store<u16>(inflight + (id << 1), 0);
    store<u16>(stack + (freeIds << 1), <u16>id);
    freeIds++;
    freed += chainLength;
    slot += chainLength;
    if (slot >= size) { slot -= size; wrap ^= 1; }
    // @ts-ignore: C is the caller's consumer class
    acc = consumer.complete(acc, id, len);
    n++;
  }
  setField(cb, K.CONTROL_USED_INDEX, slot);
  setField(cb, K.CONTROL_USED_WRAP, wrap);
  setField(cb, K.CONTROL_FREE_HEAD, freeIds);
  setField(cb, K.CONTROL_FREE_COUNT, field(cb, K.CONTROL_FREE_COUNT) + freed);
  return acc;
}
