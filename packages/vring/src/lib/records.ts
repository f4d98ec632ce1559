// The batch records the TypeScript path writes for the JavaScript API (twin of
// wasm/lib/records.ts): CHAIN_RECORD, COMPACT_RECORD and SEGMENT_RECORD, at byte offsets.
import * as K from '../generated/constants.js';

export function writeCompact(
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
  u32[i + (K.COMPACT_RECORD_ID >>> 2)] = id;
  u32[i + (K.COMPACT_RECORD_REASON >>> 2)] = reason;
  u32[i + (K.COMPACT_RECORD_READ_OFFSET >>> 2)] = readAt;
  u32[i + (K.COMPACT_RECORD_READ_LENGTH >>> 2)] = readLen;
  u32[i + (K.COMPACT_RECORD_WRITE_OFFSET >>> 2)] = writeAt;
  u32[i + (K.COMPACT_RECORD_WRITE_LENGTH >>> 2)] = writeLen;
  u32[i + (K.COMPACT_RECORD_RING_SLOTS >>> 2)] = slots;
  u32[i + (K.COMPACT_RECORD_USED_LENGTH >>> 2)] = 0;
}

export function writeChain(
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
  u32[i + (K.CHAIN_RECORD_ID >>> 2)] = id;
  u32[i + (K.CHAIN_RECORD_REASON >>> 2)] = reason;
  u32[i + (K.CHAIN_RECORD_READABLE >>> 2)] = readable;
  u32[i + (K.CHAIN_RECORD_WRITABLE >>> 2)] = writable;
  u32[i + (K.CHAIN_RECORD_FIRST_SEGMENT >>> 2)] = first;
  u32[i + (K.CHAIN_RECORD_RING_SLOTS >>> 2)] = slots;
}

/** Segment record `seg` of the array at `segments`: a buffer's linear offset and length. */
export function writeSegment(
  u32: Uint32Array<ArrayBufferLike>,
  segments: number,
  seg: number,
  at: number,
  len: number,
): void {
  const i = (segments + seg * K.SEGMENT_RECORD_SIZE) >>> 2;
  u32[i + (K.SEGMENT_RECORD_OFFSET >>> 2)] = at;
  u32[i + (K.SEGMENT_RECORD_LENGTH >>> 2)] = len;
}
