/**
 * The TypeScript path: the same operations as wasm/core.ts, step for step and check for check,
 * on the same control blocks and memory. Used where WebAssembly is unavailable and as the oracle
 * of the differential tests. 64-bit addresses are handled as two u32 halves (no BigInt).
 */
import {
  PACKED_DESC,
  PACKED_RING,
  SPLIT_AVAIL,
  SPLIT_DESC,
  SPLIT_RING,
  SPLIT_USED,
  SPLIT_USED_ELEM,
} from '@vhost-user/codec';
import type { Engine } from './engine.js';
import type { ChainFiller, ChainHandler, CompletionFolder } from './handlers.js';
import {
  BUFFER_SPEC,
  CHAIN_RECORD,
  CONTROL,
  FEATURE,
  MEMORY_HEADER,
  RECLAIM_RECORD,
  REGION_ENTRY,
  COMPACT_RECORD,
  SEGMENT_RECORD,
  USED_RECORD,
} from './layout.js';
import { REJECT } from './reasons.js';

// Layout numbers as plain module constants: V8 re-reads imported object properties (a cell load
// and a map check) on every access in hot loops, which costs more than the typed-array access.
const SPLIT_DESC_size = SPLIT_DESC.size;
const PACKED_DESC_size = PACKED_DESC.size;
const MEMORY_HEADER_regionCount = MEMORY_HEADER.regionCount;
const MEMORY_HEADER_regions = MEMORY_HEADER.regions;
const REGION_ENTRY_offset = REGION_ENTRY.offset;
const REGION_ENTRY_size = REGION_ENTRY.size;
const CONTROL_errors = CONTROL.errors;
const CONTROL_needsReset = CONTROL.needsReset;
const CONTROL_lastError = CONTROL.lastError;
const CONTROL_status = CONTROL.status;
const CHAIN_RECORD_id = CHAIN_RECORD.id;
const CHAIN_RECORD_reason = CHAIN_RECORD.reason;
const CHAIN_RECORD_readable = CHAIN_RECORD.readable;
const CHAIN_RECORD_writable = CHAIN_RECORD.writable;
const CHAIN_RECORD_firstSegment = CHAIN_RECORD.firstSegment;
const CHAIN_RECORD_ringSlots = CHAIN_RECORD.ringSlots;
const SEGMENT_RECORD_size = SEGMENT_RECORD.size;
const SEGMENT_RECORD_offset = SEGMENT_RECORD.offset;
const SEGMENT_RECORD_length = SEGMENT_RECORD.length;
const CONTROL_queueSize = CONTROL.queueSize;
const CONTROL_desc = CONTROL.desc;
const CONTROL_driverArea = CONTROL.driverArea;
const CONTROL_memoryHeader = CONTROL.memoryHeader;
const CONTROL_features = CONTROL.features;
const FEATURE_indirect = FEATURE.indirect;
const CONTROL_out = CONTROL.out;
const CONTROL_segments = CONTROL.segments;
const CONTROL_segmentCapacity = CONTROL.segmentCapacity;
const CONTROL_availIndex = CONTROL.availIndex;
const SPLIT_AVAIL_idx = SPLIT_AVAIL.idx;
const REJECT_AVAIL_INDEX_TOO_FAR = REJECT.AVAIL_INDEX_TOO_FAR;
const CONTROL_outCapacity = CONTROL.outCapacity;
const SPLIT_AVAIL_ring = SPLIT_AVAIL.ring;
const REJECT_DESC_INDEX_OUT_OF_RANGE = REJECT.DESC_INDEX_OUT_OF_RANGE;
const REJECT_CHAIN_TOO_LONG = REJECT.CHAIN_TOO_LONG;
const SPLIT_DESC_addr = SPLIT_DESC.addr;
const SPLIT_DESC_len = SPLIT_DESC.len;
const SPLIT_DESC_flags = SPLIT_DESC.flags;
const SPLIT_DESC_next = SPLIT_DESC.next;
const REJECT_INDIRECT_NOT_NEGOTIATED = REJECT.INDIRECT_NOT_NEGOTIATED;
const REJECT_NESTED_INDIRECT = REJECT.NESTED_INDIRECT;
const REJECT_INDIRECT_WITH_NEXT = REJECT.INDIRECT_WITH_NEXT;
const REJECT_INDIRECT_BAD_LENGTH = REJECT.INDIRECT_BAD_LENGTH;
const REJECT_INDIRECT_OUT_OF_BOUNDS = REJECT.INDIRECT_OUT_OF_BOUNDS;
const REJECT_BUFFER_OUT_OF_BOUNDS = REJECT.BUFFER_OUT_OF_BOUNDS;
const REJECT_READABLE_AFTER_WRITABLE = REJECT.READABLE_AFTER_WRITABLE;
const CHAIN_RECORD_size = CHAIN_RECORD.size;
const CONTROL_inputCapacity = CONTROL.inputCapacity;
const CONTROL_deviceArea = CONTROL.deviceArea;
const CONTROL_input = CONTROL.input;
const SPLIT_USED_ring = SPLIT_USED.ring;
const SPLIT_USED_idx = SPLIT_USED.idx;
const SPLIT_USED_ELEM_size = SPLIT_USED_ELEM.size;
const CONTROL_usedIndex = CONTROL.usedIndex;
const USED_RECORD_size = USED_RECORD.size;
const SPLIT_USED_ELEM_id = SPLIT_USED_ELEM.id;
const USED_RECORD_id = USED_RECORD.id;
const SPLIT_USED_ELEM_len = SPLIT_USED_ELEM.len;
const USED_RECORD_length = USED_RECORD.length;
const CONTROL_reservedChains = CONTROL.reservedChains;
const CONTROL_reservedDescs = CONTROL.reservedDescs;
const CONTROL_freeCount = CONTROL.freeCount;
const CONTROL_links = CONTROL.links;
const CONTROL_chainIds = CONTROL.chainIds;
const CONTROL_chainLengths = CONTROL.chainLengths;
const CONTROL_freeHead = CONTROL.freeHead;
const CONTROL_inflight = CONTROL.inflight;
const BUFFER_SPEC_size = BUFFER_SPEC.size;
const BUFFER_SPEC_flags = BUFFER_SPEC.flags;
const BUFFER_SPEC_addrLow = BUFFER_SPEC.addrLow;
const BUFFER_SPEC_addrHigh = BUFFER_SPEC.addrHigh;
const BUFFER_SPEC_length = BUFFER_SPEC.length;
const REJECT_USED_INDEX_TOO_FAR = REJECT.USED_INDEX_TOO_FAR;
const RECLAIM_RECORD_size = RECLAIM_RECORD.size;
const RECLAIM_RECORD_id = RECLAIM_RECORD.id;
const RECLAIM_RECORD_length = RECLAIM_RECORD.length;
const REJECT_USED_ID_NOT_IN_FLIGHT = REJECT.USED_ID_NOT_IN_FLIGHT;
const CONTROL_availWrap = CONTROL.availWrap;
const PACKED_DESC_flags = PACKED_DESC.flags;
const REJECT_DESC_NOT_AVAILABLE = REJECT.DESC_NOT_AVAILABLE;
const PACKED_DESC_id = PACKED_DESC.id;
const PACKED_DESC_addr = PACKED_DESC.addr;
const PACKED_DESC_len = PACKED_DESC.len;
const REJECT_BAD_BUFFER_ID = REJECT.BAD_BUFFER_ID;
const CONTROL_usedWrap = CONTROL.usedWrap;
const USED_RECORD_ringSlots = USED_RECORD.ringSlots;

const COMPACT_WORDS = COMPACT_RECORD.size >>> 2;
const COMPACT_id = COMPACT_RECORD.id >>> 2;
const COMPACT_reason = COMPACT_RECORD.reason >>> 2;
const COMPACT_readOffset = COMPACT_RECORD.readOffset >>> 2;
const COMPACT_readLength = COMPACT_RECORD.readLength >>> 2;
const COMPACT_writeOffset = COMPACT_RECORD.writeOffset >>> 2;
const COMPACT_writeLength = COMPACT_RECORD.writeLength >>> 2;
const COMPACT_ringSlots = COMPACT_RECORD.ringSlots >>> 2;
const COMPACT_usedLength = COMPACT_RECORD.usedLength >>> 2;

const TWO_32 = 4294967296;
// The fused loops read and write a descriptor's flags and next as one u32 (flags in the low half).
if (SPLIT_DESC.flags % 4 !== 0 || SPLIT_DESC.next !== SPLIT_DESC.flags + 2) {
  throw new Error('SPLIT_DESC: flags and next are no longer one aligned u32; update the fused loops');
}
/** Addresses at or above 2^53 are in no region (regions end below 2^53, see GuestMemory). */
const HIGH_LIMIT = 0x200000;
/** Region 0 ending below 2^31 lets the checks run in small-integer arithmetic. */
const HIGH_HALF = 0x80000000;

const S_NEXT = SPLIT_RING.VIRTQ_DESC_F_NEXT;
const S_WRITE = SPLIT_RING.VIRTQ_DESC_F_WRITE;
const S_INDIRECT = SPLIT_RING.VIRTQ_DESC_F_INDIRECT;
const P_NEXT = PACKED_RING.VIRTQ_DESC_F_NEXT;
const P_WRITE = PACKED_RING.VIRTQ_DESC_F_WRITE;
const P_INDIRECT = PACKED_RING.VIRTQ_DESC_F_INDIRECT;
const P_AVAIL = PACKED_RING.VIRTQ_DESC_F_AVAIL;
const P_USED = PACKED_RING.VIRTQ_DESC_F_USED;
const P_AVAIL_SHIFT = Math.log2(P_AVAIL);
const P_USED_SHIFT = Math.log2(P_USED);
const S_DESC = SPLIT_DESC_size;
const P_DESC = PACKED_DESC_size;

// One set of module-level functions for every memory: per-memory closures made call sites
// polymorphic ("wrong call target" deopts, no inlining) as soon as a second memory existed.
// Each engine entry point binds its memory's views first; nothing here calls back into user
// code, so the binding cannot change during a call.
let U16: Uint16Array<ArrayBufferLike> = new Uint16Array(0);
let U32: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
let VIEW: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

interface Views {
  readonly u16: Uint16Array<ArrayBufferLike>;
  readonly u32: Uint32Array<ArrayBufferLike>;
  readonly view: DataView<ArrayBufferLike>;
}

/** Views of the memory of the engine being called (see createTsEngine). */
function bind(v: Views): void {
  if (U32 !== v.u32) {
    U16 = v.u16;
    U32 = v.u32;
    VIEW = v.view;
  }
}

const field = (cb: number, offset: number): number => U32[(cb + offset) >>> 2]!;
const setField = (cb: number, offset: number, value: number): void => {
  U32[(cb + offset) >>> 2] = value;
};

/** Linear offset of [addr, addr + len) when inside one guest region, else 0 (as translate() in core.ts). */
function translate(header: number, low: number, high: number, len: number): number {
  const u32 = U32;
  if (high >= HIGH_LIMIT) return 0;
  const addr = high * TWO_32 + low;
  const count = u32[(header + MEMORY_HEADER_regionCount) >>> 2]!;
  let e = (header + MEMORY_HEADER_regions) >>> 2;
  for (let i = 0; i < count; i++) {
    const gpa = u32[e + 1]! * TWO_32 + u32[e]!;
    if (addr >= gpa) {
      const delta = addr - gpa;
      const size = u32[e + 3]! * TWO_32 + u32[e + 2]!;
      if (delta <= size && len <= size - delta) return (u32[e + (REGION_ENTRY_offset >>> 2)]! + delta) >>> 0;
    }
    e += REGION_ENTRY_size >>> 2;
  }
  return 0;
}

/** translate() with region 0 from locals (same result: the scan tries region 0 first too). */
function translateFirst(
  u32: Uint32Array<ArrayBufferLike>,
  header: number,
  low: number,
  high: number,
  len: number,
  has0: boolean,
  gpa0: number,
  size0: number,
  offset0: number,
): number {
  // Region 0 below 2^31 and a 32-bit address: the same test in small-integer arithmetic.
  if (has0 && high === 0 && gpa0 + size0 < HIGH_HALF) {
    if (low >= gpa0) {
      const delta = low - gpa0;
      if (delta <= size0 && len <= size0 - delta) return (offset0 + delta) >>> 0;
    }
    return translate(header, low, high, len);
  }
  if (has0 && high < HIGH_LIMIT) {
    const addr = high * TWO_32 + low;
    if (addr >= gpa0) {
      const delta = addr - gpa0;
      if (delta <= size0 && len <= size0 - delta) return (offset0 + delta) >>> 0;
    }
  }
  return translate(header, low, high, len);
}

function reject(cb: number, rejected: number, reason: number): void {
  if (rejected === 0) return;
  setField(cb, CONTROL_errors, (field(cb, CONTROL_errors) + rejected) >>> 0);
  setField(cb, CONTROL_needsReset, 1);
  setField(cb, CONTROL_lastError, reason);
}

function failQueue(cb: number, reason: number): void {
  setField(cb, CONTROL_status, reason);
  reject(cb, 1, reason);
}

function writeChain(
  u32: Uint32Array<ArrayBufferLike>,
  out: number,
  id: number,
  reason: number,
  readable: number,
  writable: number,
  first: number,
  slots: number,
): void {
  const i = out >>> 2;
  u32[i + (CHAIN_RECORD_id >>> 2)] = id;
  u32[i + (CHAIN_RECORD_reason >>> 2)] = reason;
  u32[i + (CHAIN_RECORD_readable >>> 2)] = readable;
  u32[i + (CHAIN_RECORD_writable >>> 2)] = writable;
  u32[i + (CHAIN_RECORD_firstSegment >>> 2)] = first;
  u32[i + (CHAIN_RECORD_ringSlots >>> 2)] = slots;
}

function writeCompact(
  u32: Uint32Array<ArrayBufferLike>,
  out: number,
  id: number,
  reason: number,
  readAt: number,
  readLen: number,
  writeAt: number,
  writeLen: number,
  slots: number,
): void {
  const i = out >>> 2;
  u32[i + COMPACT_id] = id;
  u32[i + COMPACT_reason] = reason;
  u32[i + COMPACT_readOffset] = readAt;
  u32[i + COMPACT_readLength] = readLen;
  u32[i + COMPACT_writeOffset] = writeAt;
  u32[i + COMPACT_writeLength] = writeLen;
  u32[i + COMPACT_ringSlots] = slots;
  u32[i + COMPACT_usedLength] = 0;
}

function writeSegment(u32: Uint32Array<ArrayBufferLike>, segments: number, seg: number, at: number, len: number): void {
  const i = (segments + seg * SEGMENT_RECORD_size) >>> 2;
  u32[i + (SEGMENT_RECORD_offset >>> 2)] = at;
  u32[i + (SEGMENT_RECORD_length >>> 2)] = len;
}

// ---- split ring, device side ----

function splitDevicePop(cb: number, max: number, compact = false): number {
  const u16 = U16;
  const u32 = U32;
  const view = VIEW;
  // Layout numbers in locals: module constants are context loads on every use in a hot loop.
  const kCHAIN_RECORD_size = CHAIN_RECORD_size;
  const kREJECT_AVAIL_INDEX_TOO_FAR = REJECT_AVAIL_INDEX_TOO_FAR;
  const kREJECT_BUFFER_OUT_OF_BOUNDS = REJECT_BUFFER_OUT_OF_BOUNDS;
  const kREJECT_CHAIN_TOO_LONG = REJECT_CHAIN_TOO_LONG;
  const kREJECT_DESC_INDEX_OUT_OF_RANGE = REJECT_DESC_INDEX_OUT_OF_RANGE;
  const kREJECT_INDIRECT_BAD_LENGTH = REJECT_INDIRECT_BAD_LENGTH;
  const kREJECT_INDIRECT_NOT_NEGOTIATED = REJECT_INDIRECT_NOT_NEGOTIATED;
  const kREJECT_INDIRECT_OUT_OF_BOUNDS = REJECT_INDIRECT_OUT_OF_BOUNDS;
  const kREJECT_INDIRECT_WITH_NEXT = REJECT_INDIRECT_WITH_NEXT;
  const kREJECT_NESTED_INDIRECT = REJECT_NESTED_INDIRECT;
  const kREJECT_READABLE_AFTER_WRITABLE = REJECT_READABLE_AFTER_WRITABLE;
  const kSPLIT_AVAIL_idx = SPLIT_AVAIL_idx;
  const kSPLIT_AVAIL_ring = SPLIT_AVAIL_ring;
  const kSPLIT_DESC_addr = SPLIT_DESC_addr;
  const kSPLIT_DESC_flags = SPLIT_DESC_flags;
  const kSPLIT_DESC_len = SPLIT_DESC_len;
  const kSPLIT_DESC_next = SPLIT_DESC_next;
  const kS_DESC = S_DESC;
  const kS_INDIRECT = S_INDIRECT;
  const kS_NEXT = S_NEXT;
  const kS_WRITE = S_WRITE;

  if (field(cb, CONTROL_status) !== 0) return 0;
  const size = field(cb, CONTROL_queueSize);
  const mask = size - 1;
  const table = field(cb, CONTROL_desc);
  const avail = field(cb, CONTROL_driverArea);
  const header = field(cb, CONTROL_memoryHeader);
  const r0 = (header + MEMORY_HEADER_regions) >>> 2;
  const has0 = u32[(header + MEMORY_HEADER_regionCount) >>> 2]! !== 0;
  const gpa0 = u32[r0 + 1]! * TWO_32 + u32[r0]!;
  const size0 = u32[r0 + 3]! * TWO_32 + u32[r0 + 2]!;
  const offset0 = u32[r0 + (REGION_ENTRY_offset >>> 2)]!;
  const indirectOk = (field(cb, CONTROL_features) & FEATURE_indirect) !== 0;
  const out = field(cb, CONTROL_out);
  const segments = field(cb, CONTROL_segments);
  const segmentCapacity = field(cb, CONTROL_segmentCapacity);
  let next = field(cb, CONTROL_availIndex);
  const availIdx = Atomics.load(u16, (avail + kSPLIT_AVAIL_idx) >>> 1);
  const pending = (availIdx - next) & 0xffff;
  if (pending > size) {
    failQueue(cb, kREJECT_AVAIL_INDEX_TOO_FAR);
    return 0;
  }
  let limit = pending;
  if (limit > max) limit = max;
  const outCapacity = field(cb, CONTROL_outCapacity);
  if (limit > outCapacity) limit = outCapacity;
  const ring = (avail + kSPLIT_AVAIL_ring) >>> 1;

  let count = 0;
  let seg = 0;
  let rejected = 0;
  let lastReason = 0;
  while (count < limit) {
    const head = u16[ring + (next & mask)]!;
    const first = seg;
    let reason = 0;
    let readable = 0;
    let writable = 0;
    let readAt = 0;
    let readLen = 0;
    let writeAt = 0;
    let writeLen = 0;
    let full = false;
    if (head >= size) {
      reason = kREJECT_DESC_INDEX_OUT_OF_RANGE;
    } else {
      let base = table;
      let entries = size;
      let index = head;
      let visited = 0;
      let inIndirect = false;
      for (;;) {
        visited++;
        if (visited > size) {
          reason = kREJECT_CHAIN_TOO_LONG;
          break;
        }
        const d = base + index * kS_DESC;
        let low: number, high: number, len: number, flags: number, nextIndex: number;
        if (inIndirect) {
          // An indirect table may sit at any address: read it bytewise-safe.
          low = view.getUint32(d + kSPLIT_DESC_addr, true);
          high = view.getUint32(d + kSPLIT_DESC_addr + 4, true);
          len = view.getUint32(d + kSPLIT_DESC_len, true);
          flags = view.getUint16(d + kSPLIT_DESC_flags, true);
          nextIndex = view.getUint16(d + kSPLIT_DESC_next, true);
        } else {
          const w = d >>> 2;
          low = u32[w + (kSPLIT_DESC_addr >>> 2)]!;
          high = u32[w + (kSPLIT_DESC_addr >>> 2) + 1]!;
          len = u32[w + (kSPLIT_DESC_len >>> 2)]!;
          flags = u16[(d + kSPLIT_DESC_flags) >>> 1]!;
          nextIndex = u16[(d + kSPLIT_DESC_next) >>> 1]!;
        }
        if ((flags & kS_INDIRECT) !== 0) {
          if (!indirectOk) {
            reason = kREJECT_INDIRECT_NOT_NEGOTIATED;
            break;
          }
          if (inIndirect) {
            reason = kREJECT_NESTED_INDIRECT;
            break;
          }
          if ((flags & kS_NEXT) !== 0) {
            reason = kREJECT_INDIRECT_WITH_NEXT;
            break;
          }
          if (len === 0 || len % kS_DESC !== 0) {
            reason = kREJECT_INDIRECT_BAD_LENGTH;
            break;
          }
          const at = translateFirst(u32, header, low, high, len, has0, gpa0, size0, offset0);
          if (at === 0) {
            reason = kREJECT_INDIRECT_OUT_OF_BOUNDS;
            break;
          }
          base = at;
          entries = len / kS_DESC;
          index = 0;
          inIndirect = true;
          continue;
        }
        const at = translateFirst(u32, header, low, high, len, has0, gpa0, size0, offset0);
        if (at === 0) {
          reason = kREJECT_BUFFER_OUT_OF_BOUNDS;
          break;
        }
        if ((flags & kS_WRITE) !== 0) {
          if (writable === 0) {
            writeAt = at;
            writeLen = len;
          }
          writable++;
        } else {
          if (writable !== 0) {
            reason = kREJECT_READABLE_AFTER_WRITABLE;
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
        if ((flags & kS_NEXT) === 0) break;
        index = nextIndex;
        if (index >= entries) {
          reason = kREJECT_DESC_INDEX_OUT_OF_RANGE;
          break;
        }
      }
    }
    if (full) {
      seg = first;
      break;
    }
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
      writeCompact(u32, out + count * kCHAIN_RECORD_size, head, reason, readAt, readLen, writeAt, writeLen, 1);
    else writeChain(u32, out + count * kCHAIN_RECORD_size, head, reason, readable, writable, first, 1);
    count++;
    next = (next + 1) & 0xffff;
  }
  setField(cb, CONTROL_availIndex, next);
  reject(cb, rejected, lastReason);
  return count;
}

/** Writes used elements from the input records or the compact records; only their layout differs. */
function splitDevicePush(cb: number, count: number, compact = false): number {
  const u16 = U16;
  const u32 = U32;
  const capacity = field(cb, compact ? CONTROL_outCapacity : CONTROL_inputCapacity);
  const n = count < capacity ? count : capacity;
  const mask = field(cb, CONTROL_queueSize) - 1;
  const used = field(cb, CONTROL_deviceArea);
  const records = field(cb, compact ? CONTROL_out : CONTROL_input) >>> 2;
  const stride = compact ? COMPACT_WORDS : USED_RECORD_size >>> 2;
  const idAt = compact ? COMPACT_id : USED_RECORD_id >>> 2;
  const lengthAt = compact ? COMPACT_usedLength : USED_RECORD_length >>> 2;
  const ring = (used + SPLIT_USED_ring) >>> 2;
  const idxAt = (used + SPLIT_USED_idx) >>> 1;
  const elemWords = SPLIT_USED_ELEM_size >>> 2;
  let idx = field(cb, CONTROL_usedIndex);
  for (let i = 0; i < n; i++) {
    const rec = records + i * stride;
    const elem = ring + (idx & mask) * elemWords;
    u32[elem + (SPLIT_USED_ELEM_id >>> 2)] = u32[rec + idAt]!;
    u32[elem + (SPLIT_USED_ELEM_len >>> 2)] = u32[rec + lengthAt]!;
    idx = (idx + 1) & 0xffff;
    if (((i + 1) & 31) === 0) Atomics.store(u16, idxAt, idx);
  }
  if ((n & 31) !== 0) Atomics.store(u16, idxAt, idx);
  setField(cb, CONTROL_usedIndex, idx);
  return n;
}

// ---- split ring, driver side ----

function splitDriverReserve(cb: number, chains: number, perChain: number): number {
  const u16 = U16;
  const size = field(cb, CONTROL_queueSize);
  if (chains === 0 || perChain === 0 || perChain > size) return 0;
  const need = chains * perChain;
  let rc = field(cb, CONTROL_reservedChains);
  let rd = field(cb, CONTROL_reservedDescs);
  if (rc + chains > field(cb, CONTROL_outCapacity)) return 0;
  if (rd + need > field(cb, CONTROL_segmentCapacity)) return 0;
  if (field(cb, CONTROL_freeCount) < need) return 0;
  const links = field(cb, CONTROL_links) >>> 1;
  const positions = field(cb, CONTROL_segments) >>> 1;
  const ids = field(cb, CONTROL_chainIds) >>> 1;
  const lengths = field(cb, CONTROL_chainLengths) >>> 1;
  let free = field(cb, CONTROL_freeHead);
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
  setField(cb, CONTROL_freeHead, free);
  setField(cb, CONTROL_freeCount, field(cb, CONTROL_freeCount) - need);
  setField(cb, CONTROL_reservedChains, rc);
  setField(cb, CONTROL_reservedDescs, rd);
  return chains;
}

function splitDriverPublish(cb: number): number {
  const u16 = U16;
  const u32 = U32;
  const rc = field(cb, CONTROL_reservedChains);
  if (rc === 0) return 0;
  // Layout numbers in locals: module constants are context loads on every use in a hot loop.
  const descWords = S_DESC >>> 2;
  const addrWord = SPLIT_DESC_addr >>> 2;
  const lenWord = SPLIT_DESC_len >>> 2;
  const flagsHalf = SPLIT_DESC_flags >>> 1;
  const nextHalf = SPLIT_DESC_next >>> 1;
  const specWords = BUFFER_SPEC_size >>> 2;
  const specFlags = BUFFER_SPEC_flags >>> 2;
  const specLow = BUFFER_SPEC_addrLow >>> 2;
  const specHigh = BUFFER_SPEC_addrHigh >>> 2;
  const specLength = BUFFER_SPEC_length >>> 2;
  const keepFlags = S_WRITE | S_INDIRECT;
  const nextFlag = S_NEXT;
  const mask = field(cb, CONTROL_queueSize) - 1;
  const table = field(cb, CONTROL_desc) >>> 2;
  const avail = field(cb, CONTROL_driverArea);
  const specs = field(cb, CONTROL_input) >>> 2;
  const positions = field(cb, CONTROL_segments) >>> 1;
  const ids = field(cb, CONTROL_chainIds) >>> 1;
  const lengths = field(cb, CONTROL_chainLengths) >>> 1;
  const inflight = field(cb, CONTROL_inflight) >>> 1;
  const ring = (avail + SPLIT_AVAIL_ring) >>> 1;
  let idx = field(cb, CONTROL_availIndex);
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
  Atomics.store(u16, (avail + SPLIT_AVAIL_idx) >>> 1, idx);
  setField(cb, CONTROL_availIndex, idx);
  setField(cb, CONTROL_reservedChains, 0);
  setField(cb, CONTROL_reservedDescs, 0);
  return rc;
}

// ---- split ring, fused loops with the caller's per-chain work (twins of wasm/lib/split.ts) ----

/**
 * One device pass: one acquire of avail.idx, then per chain (up to `max`) validate all of it,
 * `handler.serve(...)` a valid one, write its used element (length 0 when rejected). Chains of
 * one readable then one writable descriptor inside region 0 are checked inline; any other chain
 * goes through splitDevicePop (one chain, compact), so the rules and reasons are the same.
 */
function splitDeviceServe(v: Views, cb: number, max: number, handler: ChainHandler): number {
  bind(v);
  const u16 = v.u16;
  const u32 = v.u32;
  if (field(cb, CONTROL_status) !== 0) return 0;
  const size = field(cb, CONTROL_queueSize);
  const mask = size - 1;
  const table = field(cb, CONTROL_desc);
  const avail = field(cb, CONTROL_driverArea);
  const used = field(cb, CONTROL_deviceArea);
  const header = field(cb, CONTROL_memoryHeader);
  const r0 = (header + MEMORY_HEADER_regions) >>> 2;
  const gpa0 = u32[r0 + 1]! * TWO_32 + u32[r0]!;
  const size0 = u32[r0 + 3]! * TWO_32 + u32[r0 + 2]!;
  const offset0 = u32[r0 + (REGION_ENTRY_offset >>> 2)]!;
  // The inline check works in small integers: region 0 must lie below 2^31.
  const inline = u32[(header + MEMORY_HEADER_regionCount) >>> 2]! !== 0 && gpa0 + size0 < HIGH_HALF;
  const rec = field(cb, CONTROL_out) >>> 2;
  const ring = (avail + SPLIT_AVAIL_ring) >>> 1;
  const usedRing = (used + SPLIT_USED_ring) >>> 2;
  const usedIdxAt = (used + SPLIT_USED_idx) >>> 1;
  const descWords = S_DESC >>> 2;
  const addrWord = SPLIT_DESC_addr >>> 2;
  const lenWord = SPLIT_DESC_len >>> 2;
  const flagsWord = SPLIT_DESC_flags >>> 2;
  const nextFlag = S_NEXT;
  const writeFlag = S_WRITE;
  // Layout numbers in locals: module constants are context loads on every use in a hot loop.
  const elemWords = SPLIT_USED_ELEM_size >>> 2;
  const elemId = SPLIT_USED_ELEM_id >>> 2;
  const elemLen = SPLIT_USED_ELEM_len >>> 2;
  let next = field(cb, CONTROL_availIndex);
  const pending = (Atomics.load(u16, (avail + SPLIT_AVAIL_idx) >>> 1) - next) & 0xffff;
  if (pending > size) {
    failQueue(cb, REJECT_AVAIL_INDEX_TOO_FAR);
    return 0;
  }
  const limit = pending < max ? pending : max;
  let idx = field(cb, CONTROL_usedIndex);
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
      // Every other chain: the full walk, one chain at this position (counts a rejection).
      setField(cb, CONTROL_availIndex, next);
      bind(v);
      splitDevicePop(cb, 1, true);
      if (u32[rec + COMPACT_reason] === 0) {
        len =
          handler.serve(
            head,
            u32[rec + COMPACT_readOffset]!,
            u32[rec + COMPACT_readLength]!,
            u32[rec + COMPACT_writeOffset]!,
            u32[rec + COMPACT_writeLength]!,
          ) | 0;
      }
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
  setField(cb, CONTROL_availIndex, next);
  setField(cb, CONTROL_usedIndex, idx);
  return limit;
}

/**
 * Submits `chains` chains of `perChain` descriptors built by `filler`, or none (0) when they do
 * not fit, a reserve() is pending or the sizes are out of range. Descriptor indices of chain c
 * go to descriptors[c * perChain ...]. One release of avail.idx.
 */
function splitDriverSubmit(
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
  const size = field(cb, CONTROL_queueSize);
  if (chains === 0 || perChain === 0 || perChain > size || chains > size) return 0;
  const need = chains * perChain;
  const freeCount = field(cb, CONTROL_freeCount);
  if (freeCount < need || field(cb, CONTROL_reservedChains) !== 0 || need > field(cb, CONTROL_segmentCapacity))
    return 0;
  const mask = size - 1;
  const table = field(cb, CONTROL_desc) >>> 2;
  const avail = field(cb, CONTROL_driverArea);
  const links = field(cb, CONTROL_links) >>> 1;
  const inflight = field(cb, CONTROL_inflight) >>> 1;
  const ring = (avail + SPLIT_AVAIL_ring) >>> 1;
  const descWords = S_DESC >>> 2;
  const addrWord = SPLIT_DESC_addr >>> 2;
  const lenWord = SPLIT_DESC_len >>> 2;
  const flagsHalf = SPLIT_DESC_flags >>> 1;
  const nextHalf = SPLIT_DESC_next >>> 1;
  const flagsWord = SPLIT_DESC_flags >>> 2;
  const keepFlags = S_WRITE | S_INDIRECT;
  const nextFlag = S_NEXT;
  const two32 = TWO_32;
  let free = field(cb, CONTROL_freeHead);
  let idx = field(cb, CONTROL_availIndex);
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
  setField(cb, CONTROL_freeHead, free);
  setField(cb, CONTROL_freeCount, freeCount - need);
  setField(cb, CONTROL_availIndex, idx);
  Atomics.store(u16, (avail + SPLIT_AVAIL_idx) >>> 1, idx);
  return chains;
}

/**
 * Reclaims up to `max` used elements after one acquire of used.idx, frees their chains and
 * folds each into `acc` with consumer.complete (bad ids are counted and skipped).
 */
function splitDriverReclaimFold<A>(v: Views, cb: number, max: number, consumer: CompletionFolder<A>, acc: A): A {
  bind(v);
  const u16 = v.u16;
  const u32 = v.u32;
  if (field(cb, CONTROL_status) !== 0) return acc;
  const size = field(cb, CONTROL_queueSize);
  const mask = size - 1;
  const used = field(cb, CONTROL_deviceArea);
  const links = field(cb, CONTROL_links) >>> 1;
  const inflight = field(cb, CONTROL_inflight) >>> 1;
  const ring = (used + SPLIT_USED_ring) >>> 2;
  const elemWords = SPLIT_USED_ELEM_size >>> 2;
  const elemId = SPLIT_USED_ELEM_id >>> 2;
  const elemLen = SPLIT_USED_ELEM_len >>> 2;
  let last = field(cb, CONTROL_usedIndex);
  const usedIdx = Atomics.load(u16, (used + SPLIT_USED_idx) >>> 1);
  if (((usedIdx - last) & 0xffff) > size) {
    failQueue(cb, REJECT_USED_INDEX_TOO_FAR);
    return acc;
  }
  let free = field(cb, CONTROL_freeHead);
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
  setField(cb, CONTROL_usedIndex, last);
  setField(cb, CONTROL_freeHead, free);
  setField(cb, CONTROL_freeCount, field(cb, CONTROL_freeCount) + freed);
  if (bad !== 0) {
    setField(cb, CONTROL_errors, (field(cb, CONTROL_errors) + bad) >>> 0);
    setField(cb, CONTROL_lastError, REJECT_USED_ID_NOT_IN_FLIGHT);
  }
  return acc;
}

// ---- packed ring, device side ----

const isAvailable = (flags: number, wrap: number): boolean =>
  ((flags >>> P_AVAIL_SHIFT) & 1) === wrap && ((flags >>> P_USED_SHIFT) & 1) !== wrap;
const isUsed = (flags: number, wrap: number): boolean =>
  ((flags >>> P_AVAIL_SHIFT) & 1) === wrap && ((flags >>> P_USED_SHIFT) & 1) === wrap;

function packedDevicePop(cb: number, max: number, compact = false): number {
  const u16 = U16;
  const u32 = U32;
  const view = VIEW;
  if (field(cb, CONTROL_status) !== 0) return 0;
  const size = field(cb, CONTROL_queueSize);
  const ring = field(cb, CONTROL_desc);
  const header = field(cb, CONTROL_memoryHeader);
  const r0 = (header + MEMORY_HEADER_regions) >>> 2;
  const has0 = u32[(header + MEMORY_HEADER_regionCount) >>> 2]! !== 0;
  const gpa0 = u32[r0 + 1]! * TWO_32 + u32[r0]!;
  const size0 = u32[r0 + 3]! * TWO_32 + u32[r0 + 2]!;
  const offset0 = u32[r0 + (REGION_ENTRY_offset >>> 2)]!;
  const indirectOk = (field(cb, CONTROL_features) & FEATURE_indirect) !== 0;
  const out = field(cb, CONTROL_out);
  const segments = field(cb, CONTROL_segments);
  const segmentCapacity = field(cb, CONTROL_segmentCapacity);
  let limit = field(cb, CONTROL_outCapacity);
  if (limit > max) limit = max;
  let slot = field(cb, CONTROL_availIndex);
  let wrap = field(cb, CONTROL_availWrap);

  let count = 0;
  let seg = 0;
  let rejected = 0;
  let lastReason = 0;
  while (count < limit) {
    const headFlags = Atomics.load(u16, (ring + slot * P_DESC + PACKED_DESC_flags) >>> 1);
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
        fatal = REJECT_CHAIN_TOO_LONG;
        break;
      }
      const d = ring + s * P_DESC;
      const flags = slots === 1 ? headFlags : u16[(d + PACKED_DESC_flags) >>> 1]!;
      if (slots !== 1 && !isAvailable(flags, w)) {
        fatal = REJECT_DESC_NOT_AVAILABLE;
        break;
      }
      id = u16[(d + PACKED_DESC_id) >>> 1]!;
      if (reason === 0) {
        const dw = d >>> 2;
        const low = u32[dw + (PACKED_DESC_addr >>> 2)]!;
        const high = u32[dw + (PACKED_DESC_addr >>> 2) + 1]!;
        const len = u32[dw + (PACKED_DESC_len >>> 2)]!;
        if ((flags & P_INDIRECT) !== 0) {
          if (!indirectOk) reason = REJECT_INDIRECT_NOT_NEGOTIATED;
          else if ((flags & P_NEXT) !== 0) reason = REJECT_INDIRECT_WITH_NEXT;
          else if (len === 0 || len % P_DESC !== 0) reason = REJECT_INDIRECT_BAD_LENGTH;
          else {
            const table = translateFirst(u32, header, low, high, len, has0, gpa0, size0, offset0);
            if (table === 0) reason = REJECT_INDIRECT_OUT_OF_BOUNDS;
            const entries = len / P_DESC;
            for (let e = 0; reason === 0 && e < entries; e++) {
              visited++;
              if (visited > size) {
                reason = REJECT_CHAIN_TOO_LONG;
                break;
              }
              const t = table + e * P_DESC;
              const tflags = view.getUint16(t + PACKED_DESC_flags, true);
              if ((tflags & P_INDIRECT) !== 0) {
                reason = REJECT_NESTED_INDIRECT;
                break;
              }
              const tlen = view.getUint32(t + PACKED_DESC_len, true);
              const at = translateFirst(
                u32,
                header,
                view.getUint32(t + PACKED_DESC_addr, true),
                view.getUint32(t + PACKED_DESC_addr + 4, true),
                tlen,
                has0,
                gpa0,
                size0,
                offset0,
              );
              if (at === 0) {
                reason = REJECT_BUFFER_OUT_OF_BOUNDS;
                break;
              }
              if ((tflags & P_WRITE) !== 0) {
                if (writable === 0) {
                  writeAt = at;
                  writeLen = tlen;
                }
                writable++;
              } else {
                if (writable !== 0) {
                  reason = REJECT_READABLE_AFTER_WRITABLE;
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
          const at = translateFirst(u32, header, low, high, len, has0, gpa0, size0, offset0);
          if (visited > size) reason = REJECT_CHAIN_TOO_LONG;
          else if (at === 0) reason = REJECT_BUFFER_OUT_OF_BOUNDS;
          else {
            if ((flags & P_WRITE) !== 0) {
              if (writable === 0) {
                writeAt = at;
                writeLen = len;
              }
              writable++;
            } else if (writable !== 0) {
              reason = REJECT_READABLE_AFTER_WRITABLE;
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
      if ((flags & P_NEXT) === 0) break;
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
    if (reason === 0 && id >= size) reason = REJECT_BAD_BUFFER_ID;
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
      writeCompact(u32, out + count * CHAIN_RECORD_size, id, reason, readAt, readLen, writeAt, writeLen, slots);
    else writeChain(u32, out + count * CHAIN_RECORD_size, id, reason, readable, writable, first, slots);
    count++;
    slot = s;
    wrap = w;
  }
  setField(cb, CONTROL_availIndex, slot);
  setField(cb, CONTROL_availWrap, wrap);
  reject(cb, rejected, lastReason);
  return count;
}

function packedDevicePush(cb: number, count: number, compact = false): number {
  const u16 = U16;
  const u32 = U32;
  const capacity = compact ? field(cb, CONTROL_outCapacity) : field(cb, CONTROL_inputCapacity);
  const n = count < capacity ? count : capacity;
  if (n === 0) return 0;
  const size = field(cb, CONTROL_queueSize);
  const ring = field(cb, CONTROL_desc);
  const input = (compact ? field(cb, CONTROL_out) : field(cb, CONTROL_input)) >>> 2;
  const recordWords = compact ? COMPACT_WORDS : USED_RECORD_size >>> 2;
  const slotsWord = compact ? COMPACT_ringSlots : USED_RECORD_ringSlots >>> 2;
  const lengthWord = compact ? COMPACT_usedLength : USED_RECORD_length >>> 2;
  const idWord = compact ? COMPACT_id : USED_RECORD_id >>> 2;
  let slot = field(cb, CONTROL_usedIndex);
  let wrap = field(cb, CONTROL_usedWrap);
  let firstFlagsAt = 0;
  let firstFlags = 0;
  for (let i = 0; i < n; i++) {
    const rec = input + i * recordWords;
    let slots = u32[rec + slotsWord]!;
    if (slots === 0 || slots > size) slots = 1;
    const d = ring + slot * P_DESC;
    u32[(d + PACKED_DESC_len) >>> 2] = u32[rec + lengthWord]!;
    u16[(d + PACKED_DESC_id) >>> 1] = u32[rec + idWord]! & 0xffff;
    const flags = wrap !== 0 ? P_AVAIL | P_USED : 0;
    if (i === 0) {
      firstFlagsAt = (d + PACKED_DESC_flags) >>> 1;
      firstFlags = flags;
    } else {
      u16[(d + PACKED_DESC_flags) >>> 1] = flags;
    }
    slot += slots;
    if (slot >= size) {
      slot -= size;
      wrap ^= 1;
    }
  }
  Atomics.store(u16, firstFlagsAt, firstFlags);
  setField(cb, CONTROL_usedIndex, slot);
  setField(cb, CONTROL_usedWrap, wrap);
  return n;
}

// ---- packed ring, driver side ----

function packedDriverReserve(cb: number, chains: number, perChain: number): number {
  const u16 = U16;
  const size = field(cb, CONTROL_queueSize);
  if (chains === 0 || perChain === 0 || perChain > size) return 0;
  const need = chains * perChain;
  let rc = field(cb, CONTROL_reservedChains);
  let rd = field(cb, CONTROL_reservedDescs);
  if (rc + chains > field(cb, CONTROL_outCapacity)) return 0;
  if (rd + need > field(cb, CONTROL_segmentCapacity)) return 0;
  if (field(cb, CONTROL_freeCount) < rd + need) return 0;
  let freeIds = field(cb, CONTROL_freeHead);
  if (freeIds < chains) return 0;
  const stack = field(cb, CONTROL_links) >>> 1;
  const positions = field(cb, CONTROL_segments) >>> 1;
  const ids = field(cb, CONTROL_chainIds) >>> 1;
  const lengths = field(cb, CONTROL_chainLengths) >>> 1;
  let slot = field(cb, CONTROL_availIndex) + rd;
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
  setField(cb, CONTROL_freeHead, freeIds);
  setField(cb, CONTROL_reservedChains, rc);
  setField(cb, CONTROL_reservedDescs, rd);
  return chains;
}

function packedDriverPublish(cb: number): number {
  const u16 = U16;
  const u32 = U32;
  const rc = field(cb, CONTROL_reservedChains);
  if (rc === 0) return 0;
  const size = field(cb, CONTROL_queueSize);
  const ring = field(cb, CONTROL_desc);
  const specs = field(cb, CONTROL_input) >>> 2;
  const ids = field(cb, CONTROL_chainIds) >>> 1;
  const lengths = field(cb, CONTROL_chainLengths) >>> 1;
  const inflight = field(cb, CONTROL_inflight) >>> 1;
  const specWords = BUFFER_SPEC_size >>> 2;
  let slot = field(cb, CONTROL_availIndex);
  let wrap = field(cb, CONTROL_availWrap);
  let pos = 0;
  let firstFlagsAt = 0;
  let firstFlags = 0;
  for (let c = 0; c < rc; c++) {
    const len = u16[lengths + c]!;
    const id = u16[ids + c]!;
    for (let k = 0; k < len; k++) {
      const spec = specs + pos * specWords;
      const d = ring + slot * P_DESC;
      const dw = d >>> 2;
      let flags = u32[spec + (BUFFER_SPEC_flags >>> 2)]! & (P_WRITE | P_INDIRECT);
      if (k + 1 < len) flags |= P_NEXT;
      flags |= wrap !== 0 ? P_AVAIL : P_USED;
      u32[dw + (PACKED_DESC_addr >>> 2)] = u32[spec + (BUFFER_SPEC_addrLow >>> 2)]!;
      u32[dw + (PACKED_DESC_addr >>> 2) + 1] = u32[spec + (BUFFER_SPEC_addrHigh >>> 2)]!;
      u32[dw + (PACKED_DESC_len >>> 2)] = u32[spec + (BUFFER_SPEC_length >>> 2)]!;
      u16[(d + PACKED_DESC_id) >>> 1] = id;
      if (pos === 0) {
        firstFlagsAt = (d + PACKED_DESC_flags) >>> 1;
        firstFlags = flags;
      } else {
        u16[(d + PACKED_DESC_flags) >>> 1] = flags;
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
  setField(cb, CONTROL_availIndex, slot);
  setField(cb, CONTROL_availWrap, wrap);
  setField(cb, CONTROL_freeCount, field(cb, CONTROL_freeCount) - pos);
  setField(cb, CONTROL_reservedChains, 0);
  setField(cb, CONTROL_reservedDescs, 0);
  return rc;
}

// ---- packed ring, fused driver loops with the caller's per-chain work (twins of wasm/lib/packed.ts) ----
// (The device side has none: VirtqueueDevice.serve runs packed rings over pop and push, see there.)

/**
 * Submits `chains` chains of `perChain` descriptors on a packed ring built by `filler`, or none
 * (0), as packedDriverReserve + packedDriverPublish would. Chain c's ring slots go to
 * descriptors[c * perChain ...]. The first head's flags are written last.
 */
function packedDriverSubmit(
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
  const size = field(cb, CONTROL_queueSize);
  if (chains === 0 || perChain === 0 || perChain > size || chains > size) return 0;
  const need = chains * perChain;
  const freeSlots = field(cb, CONTROL_freeCount);
  let freeIds = field(cb, CONTROL_freeHead);
  if (
    freeSlots < need ||
    freeIds < chains ||
    field(cb, CONTROL_reservedChains) !== 0 ||
    need > field(cb, CONTROL_segmentCapacity)
  )
    return 0;
  const ring = field(cb, CONTROL_desc) >>> 2;
  const stack = field(cb, CONTROL_links) >>> 1;
  const inflight = field(cb, CONTROL_inflight) >>> 1;
  const descWords = P_DESC >>> 2;
  const addrWord = PACKED_DESC_addr >>> 2;
  const lenWord = PACKED_DESC_len >>> 2;
  const flagsHalf = PACKED_DESC_flags >>> 1;
  const idHalf = PACKED_DESC_id >>> 1;
  const keepFlags = P_WRITE | P_INDIRECT;
  const two32 = TWO_32;
  let slot = field(cb, CONTROL_availIndex);
  let wrap = field(cb, CONTROL_availWrap);
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
      if (k + 1 < perChain) flags |= P_NEXT;
      flags |= wrap !== 0 ? P_AVAIL : P_USED;
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
  setField(cb, CONTROL_availIndex, slot);
  setField(cb, CONTROL_availWrap, wrap);
  setField(cb, CONTROL_freeCount, freeSlots - need);
  setField(cb, CONTROL_freeHead, freeIds);
  return chains;
}

/**
 * Reclaims up to `max` used descriptors of a packed ring, frees their ids and slots and folds each
 * into `acc` (an id not in flight is a queue-level error and ends the call).
 */
function packedDriverReclaimFold<A>(v: Views, cb: number, max: number, consumer: CompletionFolder<A>, acc: A): A {
  bind(v);
  const u16 = v.u16;
  const u32 = v.u32;
  if (field(cb, CONTROL_status) !== 0) return acc;
  const size = field(cb, CONTROL_queueSize);
  const ring = field(cb, CONTROL_desc);
  const stack = field(cb, CONTROL_links) >>> 1;
  const inflight = field(cb, CONTROL_inflight) >>> 1;
  let slot = field(cb, CONTROL_usedIndex);
  let wrap = field(cb, CONTROL_usedWrap);
  let freeIds = field(cb, CONTROL_freeHead);
  let freed = 0;
  let n = 0;
  while (n < max) {
    const d = ring + slot * P_DESC;
    const flags = Atomics.load(u16, (d + PACKED_DESC_flags) >>> 1);
    if (!isUsed(flags, wrap)) break;
    const id = u16[(d + PACKED_DESC_id) >>> 1]!;
    const len = u32[(d + PACKED_DESC_len) >>> 2]!;
    const chainLength = id < size ? u16[inflight + id]! : 0;
    if (chainLength === 0) {
      bind(v);
      failQueue(cb, REJECT_USED_ID_NOT_IN_FLIGHT);
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
  setField(cb, CONTROL_usedIndex, slot);
  setField(cb, CONTROL_usedWrap, wrap);
  setField(cb, CONTROL_freeHead, freeIds);
  setField(cb, CONTROL_freeCount, field(cb, CONTROL_freeCount) + freed);
  return acc;
}

// ---- batch reclaim: the folds with a consumer that writes RECLAIM_RECORDs ----

/** CompletionFolder of the batch reclaim calls: writes {id, len} records; the accumulator counts them. */
class ReclaimRecords implements CompletionFolder<number> {
  u32: Uint32Array<ArrayBufferLike> = U32;
  out = 0;

  complete(count: number, id: number, len: number): number {
    const rec = this.out + count * (RECLAIM_RECORD_size >>> 2);
    this.u32[rec + (RECLAIM_RECORD_id >>> 2)] = id;
    this.u32[rec + (RECLAIM_RECORD_length >>> 2)] = len;
    return count + 1;
  }
}

/** The records consumer for `v`'s memory, reset to the queue's output array. */
function recordsFor(v: Views, records: ReclaimRecords, cb: number): ReclaimRecords {
  records.u32 = v.u32;
  records.out = v.u32[(cb + CONTROL_out) >>> 2]! >>> 2;
  return records;
}

/** The batch reclaim calls read at most as many elements as the output array holds. */
function batchLimit(v: Views, cb: number, max: number): number {
  const capacity = v.u32[(cb + CONTROL_outCapacity) >>> 2]!;
  return max < capacity ? max : capacity;
}

export function createTsEngine(memory: WebAssembly.Memory): Engine {
  const buffer = memory.buffer;
  const v: Views = { u16: new Uint16Array(buffer), u32: new Uint32Array(buffer), view: new DataView(buffer) };
  const records = new ReclaimRecords();
  return {
    name: 'ts',
    splitDevicePop: (cb, max) => (bind(v), splitDevicePop(cb, max, false)),
    splitDevicePopCompact: (cb, max) => (bind(v), splitDevicePop(cb, max, true)),
    splitDevicePush: (cb, count) => (bind(v), splitDevicePush(cb, count, false)),
    splitDevicePushCompact: (cb, count) => (bind(v), splitDevicePush(cb, count, true)),
    splitDriverReserve: (cb, chains, perChain) => (bind(v), splitDriverReserve(cb, chains, perChain)),
    splitDriverPublish: (cb) => (bind(v), splitDriverPublish(cb)),
    splitDriverReclaim: (cb, max) =>
      splitDriverReclaimFold(v, cb, batchLimit(v, cb, max), recordsFor(v, records, cb), 0),
    packedDevicePop: (cb, max) => (bind(v), packedDevicePop(cb, max, false)),
    packedDevicePopCompact: (cb, max) => (bind(v), packedDevicePop(cb, max, true)),
    packedDevicePush: (cb, count) => (bind(v), packedDevicePush(cb, count, false)),
    packedDevicePushCompact: (cb, count) => (bind(v), packedDevicePush(cb, count, true)),
    packedDriverReserve: (cb, chains, perChain) => (bind(v), packedDriverReserve(cb, chains, perChain)),
    packedDriverPublish: (cb) => (bind(v), packedDriverPublish(cb)),
    packedDriverReclaim: (cb, max) =>
      packedDriverReclaimFold(v, cb, batchLimit(v, cb, max), recordsFor(v, records, cb), 0),
    splitDeviceServe: (cb, max, handler) => splitDeviceServe(v, cb, max, handler),
    splitDriverSubmit: (cb, chains, perChain, filler, descriptors) =>
      splitDriverSubmit(v, cb, chains, perChain, filler, descriptors),
    splitDriverReclaimFold: (cb, max, consumer, acc) => splitDriverReclaimFold(v, cb, max, consumer, acc),
    packedDriverSubmit: (cb, chains, perChain, filler, descriptors) =>
      packedDriverSubmit(v, cb, chains, perChain, filler, descriptors),
    packedDriverReclaimFold: (cb, max, consumer, acc) => packedDriverReclaimFold(v, cb, max, consumer, acc),
  };
}
