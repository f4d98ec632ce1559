/**
 * Why a chain (or a whole queue) was rejected. The numbers are shared by the WebAssembly core and
 * the TypeScript path (the build script copies them into the core's constants).
 */
export const REJECT = {
  /** A descriptor index (the head included) is not below the queue or indirect-table size. */
  DESC_INDEX_OUT_OF_RANGE: 1,
  /** More descriptors than the queue size: a loop, or an over-long chain. */
  CHAIN_TOO_LONG: 2,
  /** addr + len is not inside one guest region (64-bit overflow included). */
  BUFFER_OUT_OF_BOUNDS: 3,
  /** A device-readable descriptor follows a device-writable one. */
  READABLE_AFTER_WRITABLE: 4,
  /** INDIRECT set but VIRTIO_F_INDIRECT_DESC was not negotiated. */
  INDIRECT_NOT_NEGOTIATED: 5,
  /** INDIRECT set inside an indirect table. */
  NESTED_INDIRECT: 6,
  /** An indirect table whose length is zero or not a multiple of the descriptor size. */
  INDIRECT_BAD_LENGTH: 7,
  /** An indirect table that is not inside one guest region. */
  INDIRECT_OUT_OF_BOUNDS: 8,
  /** INDIRECT and NEXT both set on one descriptor. */
  INDIRECT_WITH_NEXT: 9,
  /** Split: avail.idx is more than the queue size ahead of the device (queue-level). */
  AVAIL_INDEX_TOO_FAR: 10,
  /** Packed: a descriptor inside an available chain is not available (wrap/flag rule, queue-level). */
  DESC_NOT_AVAILABLE: 11,
  /** Packed: a buffer id not below the queue size. */
  BAD_BUFFER_ID: 12,
  /** Driver: a used element names a chain that is not in flight, or an id out of range. */
  USED_ID_NOT_IN_FLIGHT: 13,
  /** Driver: used.idx is more than the queue size ahead of the driver (queue-level). */
  USED_INDEX_TOO_FAR: 14,
} as const;

export type RejectName = keyof typeof REJECT;
export type RejectCode = (typeof REJECT)[RejectName];

const NAMES = new Map<number, RejectName>(
  (Object.entries(REJECT) as [RejectName, number][]).map(([name, code]) => [code, name]),
);

/** The name of a reject code, or undefined for 0 / unknown numbers. */
export function rejectName(code: number): RejectName | undefined {
  return NAMES.get(code);
}
