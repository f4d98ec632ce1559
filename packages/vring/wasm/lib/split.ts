// Split virtqueues in the linkable library of the WebAssembly core: the chain check and walk the
// core's batch calls (core.ts) are built on, and three batch loops into which an AssemblyScript
// program puts its own per-chain work (a device's request handling, a driver's request
// building), so that nothing crosses into JavaScript per chain. Everything reads and writes the
// queue's control block, so such a program and the JavaScript API can drive the same queue.
// See the package README ("Linking the core from AssemblyScript").
import * as K from "../generated/constants";
import { failQueue, field, reject, setField } from "./control";
import { translateFirst } from "./guest";
import { writeCompact } from "./records";

/** Used elements written between two releases of used.idx (plus one release at the end of a call). */
export const USED_RELEASE_INTERVAL: u32 = 32;

// Bit positions of flags and next inside the u64 at SPLIT_DESC_LEN (little-endian; the build
// checks that len, flags and next are adjacent).
export const FLAGS_SHIFT: u64 = <u64>((K.SPLIT_DESC_FLAGS - K.SPLIT_DESC_LEN) * 8);
export const NEXT_SHIFT: u64 = <u64>((K.SPLIT_DESC_NEXT - K.SPLIT_DESC_LEN) * 8);

/** Writes one descriptor as two u64 stores. */
@inline export function storeSplitDescriptor(entry: u32, addr: u64, len: u32, flags: u32, next: u32): void {
  store<u64>(entry + K.SPLIT_DESC_ADDR, addr);
  store<u64>(entry + K.SPLIT_DESC_LEN, <u64>len | (<u64>(flags & 0xffff) << FLAGS_SHIFT) | (<u64>(next & 0xffff) << NEXT_SHIFT));
}


// ---- chain walk --------------------------------------------------------------------------------

// Results of walkSplitChain beyond its reason (a walk has more results than one return value).
export let walkReadable: u32 = 0;
export let walkWritable: u32 = 0;
export let walkReadAt: u32 = 0;
export let walkReadLen: u32 = 0;
export let walkWriteAt: u32 = 0;
export let walkWriteLen: u32 = 0;
/** Segment records used so far (the walk appends from `seg`). */
export let walkSegments: u32 = 0;
/** The segment records ran out: the chain was not consumed. */
export let walkFull: bool = false;

/**
 * Walks and validates the whole chain at `head` (< size) with every rule: indices, loops,
 * INDIRECT tables, guest bounds, readable before writable. Returns 0 or the reject reason and
 * leaves the counts, the first readable / writable buffer and (unless `compact`) the segment
 * records in the walk* results.
 */
export function walkSplitChain(
  header: u32, table: u32, size: u32, indirectOk: bool, has0: bool, gpa0: u64, size0: u64, offset0: u32,
  head: u32, compact: bool, segments: u32, segmentCapacity: u32, seg: u32,
): u32 {
  let reason: u32 = 0;
  let readable: u32 = 0;
  let writable: u32 = 0;
  let readAt: u32 = 0;
  let readLen: u32 = 0;
  let writeAt: u32 = 0;
  let writeLen: u32 = 0;
  let full = false;
  let base = table;
  let entries = size;
  let index = head;
  let visited: u32 = 0;
  let inIndirect = false;
  while (true) {
    visited++;
    if (visited > size) { reason = K.REJECT_CHAIN_TOO_LONG; break; }
    const d = base + index * K.SPLIT_DESC_SIZE;
    const addr = load<u64>(d + K.SPLIT_DESC_ADDR);
    const len = load<u32>(d + K.SPLIT_DESC_LEN);
    const flags = <u32>load<u16>(d + K.SPLIT_DESC_FLAGS);
    if ((flags & K.SPLIT_F_INDIRECT) != 0) {
      if (!indirectOk) { reason = K.REJECT_INDIRECT_NOT_NEGOTIATED; break; }
      if (inIndirect) { reason = K.REJECT_NESTED_INDIRECT; break; }
      if ((flags & K.SPLIT_F_NEXT) != 0) { reason = K.REJECT_INDIRECT_WITH_NEXT; break; }
      if (len == 0 || len % K.SPLIT_DESC_SIZE != 0) { reason = K.REJECT_INDIRECT_BAD_LENGTH; break; }
      const at = translateFirst(header, addr, <u64>len, has0, gpa0, size0, offset0);
      if (at == 0) { reason = K.REJECT_INDIRECT_OUT_OF_BOUNDS; break; }
      base = at;
      entries = len / K.SPLIT_DESC_SIZE;
      index = 0;
      inIndirect = true;
      continue;
    }
    const at = translateFirst(header, addr, <u64>len, has0, gpa0, size0, offset0);
    if (at == 0) { reason = K.REJECT_BUFFER_OUT_OF_BOUNDS; break; }
    if ((flags & K.SPLIT_F_WRITE) != 0) {
      if (writable == 0) { writeAt = at; writeLen = len; }
      writable++;
    } else {
      if (writable != 0) { reason = K.REJECT_READABLE_AFTER_WRITABLE; break; }
      if (readable == 0) { readAt = at; readLen = len; }
      readable++;
    }
    if (!compact) {
      if (seg == segmentCapacity) { full = true; break; }
      const s = segments + seg * K.SEGMENT_RECORD_SIZE;
      store<u32>(s + K.SEGMENT_RECORD_OFFSET, at);
      store<u32>(s + K.SEGMENT_RECORD_LENGTH, len);
      seg++;
    }
    if ((flags & K.SPLIT_F_NEXT) == 0) break;
    index = <u32>load<u16>(d + K.SPLIT_DESC_NEXT);
    if (index >= entries) { reason = K.REJECT_DESC_INDEX_OUT_OF_RANGE; break; }
  }
  walkReadable = readable;
  walkWritable = writable;
  walkReadAt = readAt;
  walkReadLen = readLen;
  walkWriteAt = writeAt;
  walkWriteLen = writeLen;
  walkSegments = seg;
  walkFull = full;
  return reason;
}

/**
 * The result of checkChain: the sink's value in the low 32 bits, the reject reason (0 when the
 * chain is valid and the sink was called) in the high 32 bits.
 */
@inline export function chainReason(result: u64): u32 {
  return <u32>(result >> 32);
}

/**
 * Length of region 0, or 0 when the regions table is empty: checkChain's fast path then never
 * matches (it needs a buffer to start strictly inside region 0).
 */
@inline export function region0Length(header: u32): u64 {
  return load<u32>(header + K.MEMORY_HEADER_REGION_COUNT) != 0 ? load<u64>(header + K.MEMORY_HEADER_REGIONS + K.REGION_ENTRY_LENGTH) : 0;
}

/**
 * Validates the whole chain at `head`. A valid chain is handed to
 * `S.chain(rec, head, readAt, readLen, writeAt, writeLen): u32` (its first readable and first
 * writable buffer as linear offsets, 0 / 0 when absent) and the sink's value is returned; a
 * rejected chain gets its compact record at `rec` and `reason << 32`. Request/response chains
 * (one readable then one writable descriptor, each starting inside region 0: gpa0, size0 from
 * region0Length, offset0) are checked here, straight-line; every other chain by walkCompact,
 * out of line, with the full rules and the same results.
 */
@inline export function checkChain<S>(
  cb: u32, rec: u32, table: u32, size: u32, gpa0: u64, size0: u64, offset0: u32, head: u32,
): u64 {
  const sink = changetype<S>(0);
  if (head < size) {
    const h = table + head * K.SPLIT_DESC_SIZE;
    const hWord = load<u64>(h + K.SPLIT_DESC_LEN);
    const tail = <u32>(hWord >> NEXT_SHIFT);
    if ((<u32>(hWord >> FLAGS_SHIFT) & 0xffff) == K.SPLIT_F_NEXT && tail < size) {
      const t = table + tail * K.SPLIT_DESC_SIZE;
      const tWord = load<u64>(t + K.SPLIT_DESC_LEN);
      if ((<u32>(tWord >> FLAGS_SHIFT) & 0xffff) == K.SPLIT_F_WRITE) {
        // Regions end below 2^53 (GuestMemory.setRegions), so an address below gpa0 wraps to a
        // delta far above size0. A start strictly inside the region keeps the linear offset
        // below 4 GiB, never 0 (translate()'s "not found"); the other cases take walkCompact.
        const hDelta = load<u64>(h + K.SPLIT_DESC_ADDR) - gpa0;
        const tDelta = load<u64>(t + K.SPLIT_DESC_ADDR) - gpa0;
        if (hDelta < size0 && <u64><u32>hWord <= size0 - hDelta && tDelta < size0 && <u64><u32>tWord <= size0 - tDelta) {
          // @ts-ignore: S is a sink class
          return <u64>sink.chain(rec, head, offset0 + <u32>hDelta, <u32>hWord, offset0 + <u32>tDelta, <u32>tWord);
        }
      }
    }
  }
  const reason = walkCompact(cb, rec, head);
  if (reason != 0) return <u64>reason << 32;
  return <u64>sink.chain(
    // @ts-ignore: S is a sink class
    rec, head, load<u32>(rec + K.COMPACT_RECORD_READ_OFFSET), load<u32>(rec + K.COMPACT_RECORD_READ_LENGTH),
    load<u32>(rec + K.COMPACT_RECORD_WRITE_OFFSET), load<u32>(rec + K.COMPACT_RECORD_WRITE_LENGTH),
  );
}

/**
 * Validates any chain at `head` of the queue `cb` and writes its compact record at `rec` (a
 * rejected chain gets its reason and no buffers). Returns 0 or the reason. Plain chains inside
 * region 0 take a quick walk; anything else is walked again by walkSplitChain, so reasons
 * never differ.
 */
export function walkCompact(cb: u32, rec: u32, head: u32): u32 {
  const size = field(cb, K.CONTROL_QUEUE_SIZE);
  const table = field(cb, K.CONTROL_DESC);
  const header = field(cb, K.CONTROL_MEMORY_HEADER);
  const indirectOk = (field(cb, K.CONTROL_FEATURES) & K.FEATURE_INDIRECT) != 0;
  const has0 = load<u32>(header + K.MEMORY_HEADER_REGION_COUNT) != 0;
  const gpa0 = load<u64>(header + K.MEMORY_HEADER_REGIONS + K.REGION_ENTRY_GPA);
  const size0 = load<u64>(header + K.MEMORY_HEADER_REGIONS + K.REGION_ENTRY_LENGTH);
  const offset0 = load<u32>(header + K.MEMORY_HEADER_REGIONS + K.REGION_ENTRY_OFFSET);
  if (has0 && head < size) {
    let readable: u32 = 0;
    let writable: u32 = 0;
    let readAt: u32 = 0;
    let readLen: u32 = 0;
    let writeAt: u32 = 0;
    let writeLen: u32 = 0;
    let index = head;
    let visited: u32 = 0;
    while (true) {
      visited++;
      if (visited > size) break;
      const d = table + index * K.SPLIT_DESC_SIZE;
      const addr = load<u64>(d + K.SPLIT_DESC_ADDR);
      // len, flags and next as one load.
      const word = load<u64>(d + K.SPLIT_DESC_LEN);
      const len = <u32>word;
      const flags = <u32>(word >> FLAGS_SHIFT) & 0xffff;
      if ((flags & K.SPLIT_F_INDIRECT) != 0) break;
      const delta = addr - gpa0;
      if (addr < gpa0 || delta > size0 || <u64>len > size0 - delta) break;
      const at = offset0 + <u32>delta;
      if (at == 0) break;
      if ((flags & K.SPLIT_F_WRITE) != 0) {
        if (writable == 0) { writeAt = at; writeLen = len; }
        writable++;
      } else {
        if (writable != 0) break;
        if (readable == 0) { readAt = at; readLen = len; }
        readable++;
      }
      if ((flags & K.SPLIT_F_NEXT) == 0) {
        writeCompact(rec, head, 0, readAt, readLen, writeAt, writeLen, 1);
        return 0;
      }
      index = <u32>(word >> NEXT_SHIFT);
      if (index >= size) break;
    }
  }
  const reason = head >= size
    ? K.REJECT_DESC_INDEX_OUT_OF_RANGE
    : walkSplitChain(header, table, size, indirectOk, has0, gpa0, size0, offset0, head, true, 0, 0, 0);
  if (reason != 0) writeCompact(rec, head, reason, 0, 0, 0, 0, 1);
  else writeCompact(rec, head, 0, walkReadAt, walkReadLen, walkWriteAt, walkWriteLen, 1);
  return reason;
}

// ---- batch loops with the caller's per-chain work -----------------------------------------------
//
// Each loop takes a class as its type argument and calls one method of it per chain; the
// compiler instantiates the loop for that class and inlines the method, so the per-chain work
// runs inside the ring loop with the ring state in locals. The methods are called on a null
// reference: keep per-device state in module globals, not in fields. `serve`, `fill` and
// `complete` below are the methods each loop expects.

/** checkChain sink of splitDeviceServe: hands a valid chain's buffers to the handler. */
class ServeSink<H> {
  chain(rec: u32, head: u32, readAt: u32, readLen: u32, writeAt: u32, writeLen: u32): u32 {
    // @ts-ignore: H is the caller's handler class
    return changetype<H>(0).serve(head, readAt, readLen, writeAt, writeLen);
  }
}

/**
 * One device pass over a split ring: one acquire of avail.idx, then for each available chain
 * (up to `max`) validate all of it, call
 * `H.serve(id, readAt, readLen, writeAt, writeLen): u32` with its first readable and first
 * writable buffer (linear offsets; 0 / 0 when the chain has none) and write the used element
 * with the returned length; a rejected chain is not served and gets used length 0. used.idx is
 * released after every USED_RELEASE_INTERVAL elements and at the end. Returns the chains consumed.
 */
export function splitDeviceServe<H>(cb: u32, max: u32): u32 {
  if (field(cb, K.CONTROL_STATUS) != 0) return 0;
  const size = field(cb, K.CONTROL_QUEUE_SIZE);
  const mask = size - 1;
  const table = field(cb, K.CONTROL_DESC);
  const avail = field(cb, K.CONTROL_DRIVER_AREA);
  const used = field(cb, K.CONTROL_DEVICE_AREA);
  const header = field(cb, K.CONTROL_MEMORY_HEADER);
  const gpa0 = load<u64>(header + K.MEMORY_HEADER_REGIONS + K.REGION_ENTRY_GPA);
  const size0 = region0Length(header);
  const offset0 = load<u32>(header + K.MEMORY_HEADER_REGIONS + K.REGION_ENTRY_OFFSET);
  const rec = field(cb, K.CONTROL_OUT);
  let next = field(cb, K.CONTROL_AVAIL_INDEX);
  const pending = (<u32>atomic.load<u16>(avail + K.SPLIT_AVAIL_IDX) - next) & 0xffff;
  if (pending > size) {
    failQueue(cb, K.REJECT_AVAIL_INDEX_TOO_FAR);
    return 0;
  }
  const limit = pending < max ? pending : max;
  let idx = field(cb, K.CONTROL_USED_INDEX);
  for (let i: u32 = 0; i < limit; i++) {
    const head = <u32>load<u16>(avail + K.SPLIT_AVAIL_RING + ((next & mask) << 1));
    next = (next + 1) & 0xffff;
    const result = checkChain<ServeSink<H>>(cb, rec, table, size, gpa0, size0, offset0, head);
    const reason = chainReason(result);
    if (reason != 0) reject(cb, 1, reason);
    const elem = used + K.SPLIT_USED_RING + (idx & mask) * K.SPLIT_USED_ELEM_SIZE;
    store<u32>(elem + K.SPLIT_USED_ELEM_ID, head);
    store<u32>(elem + K.SPLIT_USED_ELEM_LEN, <u32>result);
    idx = (idx + 1) & 0xffff;
    if ((i + 1) % USED_RELEASE_INTERVAL == 0) atomic.store<u16>(used + K.SPLIT_USED_IDX, <u16>idx);
  }
  if (limit % USED_RELEASE_INTERVAL != 0) atomic.store<u16>(used + K.SPLIT_USED_IDX, <u16>idx);
  setField(cb, K.CONTROL_AVAIL_INDEX, next);
  setField(cb, K.CONTROL_USED_INDEX, idx);
  return limit;
}

/**
 * Submits `chains` chains of `perChain` descriptors on a split ring, or none (returns 0) when
 * fewer than chains * perChain descriptors are free, the sizes are out of range (at most the
 * queue's batch size of chains) or a reserve() is pending. For each chain it takes the
 * descriptors from the free list (LIFO) and writes their indices at `descriptors` (u16 each;
 * chain c's at CONTROL_SEGMENTS + 2 * c * perChain), calls `F.fill(chain, head, descriptors)`
 * (write the request into the buffers), then writes descriptor k from `F.address(chain, k, index): u64`,
 * `F.length(chain, k, index): u32` and `F.flags(chain, k, index): u32` (WRITE / INDIRECT; NEXT
 * and the links are added here) and the available entry. One release of avail.idx at the end.
 * Returns `chains`.
 */
export function splitDriverSubmit<F>(cb: u32, chains: u32, perChain: u32): u32 {
  const size = field(cb, K.CONTROL_QUEUE_SIZE);
  if (chains == 0 || perChain == 0 || perChain > size || chains > field(cb, K.CONTROL_OUT_CAPACITY)) return 0;
  const need = chains * perChain;
  const freeCount = field(cb, K.CONTROL_FREE_COUNT);
  if (freeCount < need || field(cb, K.CONTROL_RESERVED_CHAINS) != 0 || need > field(cb, K.CONTROL_SEGMENT_CAPACITY)) return 0;
  const mask = size - 1;
  const table = field(cb, K.CONTROL_DESC);
  const avail = field(cb, K.CONTROL_DRIVER_AREA);
  const links = field(cb, K.CONTROL_LINKS);
  const inflight = field(cb, K.CONTROL_INFLIGHT);
  const filler = changetype<F>(0);
  const allowed = K.SPLIT_F_WRITE | K.SPLIT_F_INDIRECT;
  let descriptors = field(cb, K.CONTROL_SEGMENTS);
  let free = field(cb, K.CONTROL_FREE_HEAD);
  let idx = field(cb, K.CONTROL_AVAIL_INDEX);
  for (let c: u32 = 0; c < chains; c++, descriptors += perChain << 1) {
    const head = free;
    if (perChain == 2) {
      // Request/response chains, unrolled: the same descriptors and links as the loops below.
      const tail = <u32>load<u16>(links + (head << 1));
      free = <u32>load<u16>(links + (tail << 1));
      store<u32>(descriptors, head | (tail << 16));
      // @ts-ignore: F is the caller's filler class
      filler.fill(c, head, descriptors);
      storeSplitDescriptor(
        // @ts-ignore
        table + head * K.SPLIT_DESC_SIZE, filler.address(c, 0, head), filler.length(c, 0, head),
        // @ts-ignore
        (filler.flags(c, 0, head) & allowed) | K.SPLIT_F_NEXT, tail,
      );
      storeSplitDescriptor(
        // @ts-ignore
        table + tail * K.SPLIT_DESC_SIZE, filler.address(c, 1, tail), filler.length(c, 1, tail), filler.flags(c, 1, tail) & allowed, 0,
      );
    } else {
      // Taken in free-list order, so each descriptor's private link already names the next one.
      for (let k: u32 = 0; k < perChain; k++) {
        store<u16>(descriptors + (k << 1), <u16>free);
        free = <u32>load<u16>(links + (free << 1));
      }
      // @ts-ignore: F is the caller's filler class
      filler.fill(c, head, descriptors);
      for (let k: u32 = 0; k < perChain; k++) {
        const d = <u32>load<u16>(descriptors + (k << 1));
        // @ts-ignore
        let flags = filler.flags(c, k, d) & allowed;
        let next: u32 = 0;
        if (k + 1 < perChain) {
          flags |= K.SPLIT_F_NEXT;
          next = <u32>load<u16>(descriptors + ((k + 1) << 1));
        }
        // @ts-ignore
        storeSplitDescriptor(table + d * K.SPLIT_DESC_SIZE, filler.address(c, k, d), filler.length(c, k, d), flags, next);
      }
    }
    store<u16>(inflight + (head << 1), <u16>perChain);
    store<u16>(avail + K.SPLIT_AVAIL_RING + ((idx & mask) << 1), <u16>head);
    idx = (idx + 1) & 0xffff;
  }
  setField(cb, K.CONTROL_FREE_HEAD, free);
  setField(cb, K.CONTROL_FREE_COUNT, freeCount - need);
  setField(cb, K.CONTROL_AVAIL_INDEX, idx);
  atomic.store<u16>(avail + K.SPLIT_AVAIL_IDX, <u16>idx);
  return chains;
}

/**
 * Reclaims up to `max` used elements of a split ring after one acquire of used.idx: checks
 * that each id is a chain in flight (else counts USED_ID_NOT_IN_FLIGHT and skips it), returns
 * the chain's descriptors to the free list and folds it into `acc` with
 * `acc = C.complete(acc, id, len): A`. The accumulator (a number type) lives in a register
 * across the loop: a running checksum, a count, a record cursor. More than the queue size pending is a
 * queue-level error (USED_INDEX_TOO_FAR). Returns the final accumulator.
 */
export function splitDriverReclaimFold<C, A>(cb: u32, max: u32, acc: A): A {
  if (field(cb, K.CONTROL_STATUS) != 0) return acc;
  const size = field(cb, K.CONTROL_QUEUE_SIZE);
  const mask = size - 1;
  const used = field(cb, K.CONTROL_DEVICE_AREA);
  const links = field(cb, K.CONTROL_LINKS);
  const inflight = field(cb, K.CONTROL_INFLIGHT);
  let last = field(cb, K.CONTROL_USED_INDEX);
  const usedIdx = <u32>atomic.load<u16>(used + K.SPLIT_USED_IDX);
  if (((usedIdx - last) & 0xffff) > size) {
    failQueue(cb, K.REJECT_USED_INDEX_TOO_FAR);
    return acc;
  }
  const consumer = changetype<C>(0);
  let free = field(cb, K.CONTROL_FREE_HEAD);
  let freed: u32 = 0;
  let bad: u32 = 0;
  let n: u32 = 0;
  while (last != usedIdx && n < max) {
    const elem = used + K.SPLIT_USED_RING + (last & mask) * K.SPLIT_USED_ELEM_SIZE;
    const id = load<u32>(elem + K.SPLIT_USED_ELEM_ID);
    const len = load<u32>(elem + K.SPLIT_USED_ELEM_LEN);
    last = (last + 1) & 0xffff;
    const chainLength = id < size ? <u32>load<u16>(inflight + (id << 1)) : 0;
    if (chainLength == 0) { bad++; continue; }
    store<u16>(inflight + (id << 1), 0);
    let tail = id;
    for (let k: u32 = 1; k < chainLength; k++) tail = <u32>load<u16>(links + (tail << 1));
    store<u16>(links + (tail << 1), <u16>free);
    free = id;
    freed += chainLength;
    // @ts-ignore: C is the caller's consumer class
    acc = consumer.complete(acc, id, len);
    n++;
  }
  setField(cb, K.CONTROL_USED_INDEX, last);
  setField(cb, K.CONTROL_FREE_HEAD, free);
  setField(cb, K.CONTROL_FREE_COUNT, field(cb, K.CONTROL_FREE_COUNT) + freed);
  if (bad != 0) {
    setField(cb, K.CONTROL_ERRORS, field(cb, K.CONTROL_ERRORS) + bad);
    setField(cb, K.CONTROL_LAST_ERROR, K.REJECT_USED_ID_NOT_IN_FLIGHT);
  }
  return acc;
}
