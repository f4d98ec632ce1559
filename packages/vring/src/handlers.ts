/**
 * The per-chain callbacks of the fused batch loops (VirtqueueDevice.serve,
 * VirtqueueDriver.submit, VirtqueueDriver.reclaimFold). The loops call them once per chain in
 * the middle of the ring work, so a request/response device or driver runs its own work
 * without a second pass over batch records. Give each loop one handler class (one call target
 * keeps V8 able to inline it) and do not call into the same queue from inside a callback.
 *
 * Callbacks must not throw: the loops keep the ring position in locals, so an exception leaves
 * chains taken off the ring without a used element (device) or descriptors reserved and not
 * published (driver). The exception propagates; reset the queue (setBase, or a new queue after
 * the front-end resets the ring) before using it again.
 */

/** Serves one validated chain. Offsets are linear offsets in the guest memory's views. */
export interface ChainHandler {
  /**
   * `readAt` / `readLength`: the chain's first device-readable buffer; `writeAt` /
   * `writeLength`: its first device-writable buffer (0 / 0 when the chain has none). Returns
   * the number of bytes written into the chain: the used element's length.
   */
  serve(id: number, readAt: number, readLength: number, writeAt: number, writeLength: number): number;
}

/** Builds one request chain for VirtqueueDriver.submit. */
export interface ChainFiller {
  /**
   * Chain `chain` of the call gets id `id` (split: its head descriptor; packed: its buffer id,
   * the id its completion will carry) and the descriptors `descriptors[first]`,
   * `descriptors[first + 1]`, ... (split: descriptor indices; packed: ring slots). Write the
   * request into the buffers here; called before the descriptors are written.
   */
  fill(chain: number, id: number, descriptors: Uint16Array, first: number): void;
  /** Guest-physical address of descriptor `k` of the chain (at descriptor index `index`). */
  address(chain: number, k: number, index: number): number;
  /** Its length in bytes. */
  length(chain: number, k: number, index: number): number;
  /** Its flags: VIRTQ_DESC_F_WRITE and / or VIRTQ_DESC_F_INDIRECT (NEXT is added by the loop). */
  flags(chain: number, k: number, index: number): number;
}

/** Folds one completion into an accumulator for VirtqueueDriver.reclaimFold. */
export interface CompletionFolder<A> {
  complete(acc: A, id: number, length: number): A;
}
