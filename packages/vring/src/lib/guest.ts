// Guest-physical addresses to linear offsets through the regions table (twin of
// wasm/lib/guest.ts). 64-bit addresses are handled as two u32 halves, in doubles (no BigInt).
import * as K from '../generated/constants.js';
import { U32 } from './views.js';

export const TWO_32 = 4294967296;
/** Addresses at or above 2^53 are in no region (regions end below 2^53, see GuestMemory). */
export const HIGH_LIMIT = 0x200000;
/** Region 0 ending below 2^31 lets the checks run in small-integer arithmetic. */
export const HIGH_HALF = 0x80000000;

/** Linear offset of [addr, addr + len) (addr = high * 2^32 + low) inside one guest region, else 0. */
export function translate(header: number, low: number, high: number, len: number): number {
  const u32 = U32;
  if (high >= HIGH_LIMIT) return 0;
  const addr = high * TWO_32 + low;
  const count = u32[(header + K.MEMORY_HEADER_REGION_COUNT) >>> 2]!;
  let e = (header + K.MEMORY_HEADER_REGIONS) >>> 2;
  for (let i = 0; i < count; i++) {
    const gpa = u32[e + ((K.REGION_ENTRY_GPA + 4) >>> 2)]! * TWO_32 + u32[e + (K.REGION_ENTRY_GPA >>> 2)]!;
    if (addr >= gpa) {
      const delta = addr - gpa;
      const size = u32[e + ((K.REGION_ENTRY_LENGTH + 4) >>> 2)]! * TWO_32 + u32[e + (K.REGION_ENTRY_LENGTH >>> 2)]!;
      if (delta <= size && len <= size - delta) return (u32[e + (K.REGION_ENTRY_OFFSET >>> 2)]! + delta) >>> 0;
    }
    e += K.REGION_ENTRY_SIZE >>> 2;
  }
  return 0;
}

/**
 * translate() with region 0 checked from values held in locals. Same result: the scan also
 * tries region 0 first, and falls through to the scan when region 0 does not hold the buffer.
 */
export function translateFirst(
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
