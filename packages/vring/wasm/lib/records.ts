// The batch records the core writes for the JavaScript API (CHAIN_RECORD, COMPACT_RECORD).
import * as K from "../generated/constants";

@inline export function writeCompact(out: u32, id: u32, reason: u32, readAt: u32, readLen: u32, writeAt: u32, writeLen: u32, slots: u32): void {
  store<u32>(out + K.COMPACT_RECORD_ID, id);
  store<u32>(out + K.COMPACT_RECORD_REASON, reason);
  store<u32>(out + K.COMPACT_RECORD_READ_OFFSET, readAt);
  store<u32>(out + K.COMPACT_RECORD_READ_LENGTH, readLen);
  store<u32>(out + K.COMPACT_RECORD_WRITE_OFFSET, writeAt);
  store<u32>(out + K.COMPACT_RECORD_WRITE_LENGTH, writeLen);
  store<u32>(out + K.COMPACT_RECORD_RING_SLOTS, slots);
  store<u32>(out + K.COMPACT_RECORD_USED_LENGTH, 0);
}

@inline export function writeChain(out: u32, id: u32, reason: u32, readable: u32, writable: u32, first: u32, slots: u32): void {
  store<u32>(out + K.CHAIN_RECORD_ID, id);
  store<u32>(out + K.CHAIN_RECORD_REASON, reason);
  store<u32>(out + K.CHAIN_RECORD_READABLE, readable);
  store<u32>(out + K.CHAIN_RECORD_WRITABLE, writable);
  store<u32>(out + K.CHAIN_RECORD_FIRST_SEGMENT, first);
  store<u32>(out + K.CHAIN_RECORD_RING_SLOTS, slots);
}
