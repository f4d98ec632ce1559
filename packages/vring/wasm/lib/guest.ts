// Guest-physical addresses to linear offsets through the regions table.
import * as K from "../generated/constants";

/** Linear offset of [addr, addr + len) when it lies inside one guest region, else 0. */
@inline export function translate(header: u32, addr: u64, len: u64): u32 {
  const count = load<u32>(header + K.MEMORY_HEADER_REGION_COUNT);
  let entry = header + K.MEMORY_HEADER_REGIONS;
  for (let i: u32 = 0; i < count; i++) {
    const gpa = load<u64>(entry + K.REGION_ENTRY_GPA);
    if (addr >= gpa) {
      const delta = addr - gpa;
      const size = load<u64>(entry + K.REGION_ENTRY_LENGTH);
      if (delta <= size && len <= size - delta) return load<u32>(entry + K.REGION_ENTRY_OFFSET) + <u32>delta;
    }
    entry += K.REGION_ENTRY_SIZE;
  }
  return 0;
}

/**
 * translate() with region 0 checked from values held in locals. Same result: the scan also
 * tries region 0 first, and falls through to the scan when region 0 does not hold the buffer.
 */
@inline export function translateFirst(header: u32, addr: u64, len: u64, has0: bool, gpa0: u64, size0: u64, offset0: u32): u32 {
  if (has0 && addr >= gpa0) {
    const delta = addr - gpa0;
    if (delta <= size0 && len <= size0 - delta) return offset0 + <u32>delta;
  }
  return translate(header, addr, len);
}
