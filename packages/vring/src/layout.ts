/**
 * Layout of the core's own state inside the linear memory. The WebAssembly core and the
 * TypeScript path read and write exactly these fields, so one queue's state can be driven by
 * either engine and the two can be compared byte for byte. The build script turns this module
 * into constants for the AssemblyScript source (wasm/generated/constants.ts).
 */

/** Memory header at offset 0 of the linear memory (u32 fields, byte offsets). */
export const MEMORY_HEADER = {
  /** Identifies a memory set up by this package. */
  magic: 0,
  /** Bump pointer of the scratch arena (advanced atomically, so two threads can allocate). */
  scratchNext: 4,
  /** First byte after the scratch arena: guest regions must start at or after it. */
  scratchEnd: 8,
  /** Number of guest regions in the regions table. */
  regionCount: 12,
  /** The regions table starts here. */
  regions: 64,
} as const;

export const MEMORY_MAGIC = 0x56524e47; // "VRNG"

/** One entry of the regions table: guest-physical range -> offset in the linear memory. */
export const REGION_ENTRY = {
  size: 32,
  /** u64 guest-physical address of the first byte. */
  gpa: 0,
  /** u64 length in bytes. */
  length: 8,
  /** u32 offset of the first byte in the linear memory. */
  offset: 16,
} as const;

export const MAX_REGIONS = 512;

/**
 * Control block of one queue side (u32 fields, byte offsets). Fields marked "u16" hold a
 * free-running 16-bit ring index in a u32 slot.
 */
export const CONTROL = {
  /** One of QUEUE_KIND. */
  kind: 0,
  queueSize: 4,
  /** FEATURE_* bits negotiated for this queue. */
  features: 8,
  /** Linear offset of the descriptor table (split) or descriptor ring (packed). */
  desc: 12,
  /** Split: available ring. Packed: driver event suppression structure. */
  driverArea: 16,
  /** Split: used ring. Packed: device event suppression structure. */
  deviceArea: 20,
  /** Linear offset of the memory header (the regions table is read from it). */
  memoryHeader: 24,
  /** Device: popped chain records. Driver: reclaimed {id, len} pairs. */
  out: 28,
  outCapacity: 32,
  /** Device: segment records of popped chains. Driver: reserved descriptor positions. */
  segments: 36,
  segmentCapacity: 40,
  /** Device: used elements to push. Driver: buffer specs of reserved descriptors. */
  input: 44,
  inputCapacity: 48,
  /** Queue-level error (a REJECT reason), 0 while healthy. Nothing is processed once set. */
  status: 52,
  /** Set when any chain was rejected: the device should report DEVICE_NEEDS_RESET. */
  needsReset: 56,
  /** Number of rejected chains (device) or bad used elements (driver). */
  errors: 60,
  /** Reason of the most recent rejection. */
  lastError: 64,
  /** Device: next available index to read (split u16; packed ring slot). Driver: next available index to write. */
  availIndex: 68,
  /** Packed: wrap counter that goes with availIndex (1 or 0). */
  availWrap: 72,
  /** Device: next used index to write (split u16 / packed slot). Driver: next used index to read. */
  usedIndex: 76,
  /** Packed: wrap counter that goes with usedIndex. */
  usedWrap: 80,
  /** Index at the last notification decision (used idx for a device, avail idx for a driver). */
  eventShadow: 84,
  /** Packed: wrap counter that goes with eventShadow. */
  eventShadowWrap: 88,
  /** Driver: free descriptors (split) or free ring slots (packed). */
  freeCount: 92,
  /** Driver: head of the free descriptor list (split) / top of the free id stack (packed). */
  freeHead: 96,
  /** Driver: u16[queueSize] private links (split: next descriptor / free list; packed: free id stack). */
  links: 100,
  /** Driver: u16[queueSize] descriptors per in-flight chain, by head (split) or buffer id (packed); 0 = free. */
  inflight: 104,
  /** Driver: u16[outCapacity] per reserved chain, its number of descriptors. */
  chainLengths: 108,
  /** Driver: u16[outCapacity] per reserved chain, its id (split head / packed buffer id). */
  chainIds: 112,
  /** Driver: chains and descriptors reserved and not yet published. */
  reservedChains: 116,
  reservedDescs: 120,
  /** Bytes of the control block. */
  size: 128,
} as const;

/** CONTROL.kind values. */
export const QUEUE_KIND = {
  splitDevice: 1,
  splitDriver: 2,
  packedDevice: 3,
  packedDriver: 4,
} as const;

/** CONTROL.features bits (internal; derived from the negotiated virtio feature bits). */
export const FEATURE = {
  indirect: 1,
  eventIdx: 2,
} as const;

/** A popped chain record in CONTROL.out of a device (i32 fields, byte offsets). */
export const CHAIN_RECORD = {
  size: 32,
  /** Split: head descriptor index. Packed: buffer id. */
  id: 0,
  /** 0, or the REJECT reason; a rejected chain has no segments. */
  reason: 4,
  readable: 8,
  writable: 12,
  /** Index of its first segment record. Readable segments come first. */
  firstSegment: 16,
  /** Packed: ring slots the chain occupied (to advance the used index). Split: 1. */
  ringSlots: 20,
} as const;

/**
 * A compact chain record of a device (i32 fields, byte offsets), written by `popCompact` into the
 * same area as CHAIN_RECORD: the chain's first readable and first writable buffer as linear
 * offsets and lengths (offset 0 = none; a rejected chain has none), and a `usedLength` word the
 * caller fills before `pushCompact` publishes the record as a used element.
 */
export const COMPACT_RECORD = {
  size: 32,
  id: 0,
  reason: 4,
  readOffset: 8,
  readLength: 12,
  writeOffset: 16,
  writeLength: 20,
  /** Packed: ring slots the chain occupied. Split: 1. */
  ringSlots: 24,
  /** Bytes written into the chain, filled by the caller; `pushCompact` uses it as the used length. */
  usedLength: 28,
} as const;

/** A segment record of a device (u32 fields): where a buffer is in the linear memory. */
export const SEGMENT_RECORD = { size: 8, offset: 0, length: 4 } as const;

/**
 * A used element to push (u32 fields): chain id, bytes written, ring slots (packed: copy it from
 * the chain record; 0 or more than the queue size is taken as 1).
 */
export const USED_RECORD = { size: 16, id: 0, length: 4, ringSlots: 8 } as const;

/** A buffer spec of a driver (u32 fields): address, length and flags of one descriptor. */
export const BUFFER_SPEC = { size: 16, addrLow: 0, addrHigh: 4, length: 8, flags: 12 } as const;

/** A reclaimed element of a driver (u32 fields). */
export const RECLAIM_RECORD = { size: 8, id: 0, length: 4 } as const;
