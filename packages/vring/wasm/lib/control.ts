// Control block access and error accounting, shared by the core's batch calls and the
// per-chain calls of the linkable library (lib/split.ts).
import * as K from "../generated/constants";

@inline export function field(cb: u32, offset: u32): u32 {
  return load<u32>(cb + offset);
}

@inline export function setField(cb: u32, offset: u32, value: u32): void {
  store<u32>(cb + offset, value);
}

/** Counts `rejected` chains (or bad used elements) and remembers the last reason. */
export function reject(cb: u32, rejected: u32, reason: u32): void {
  if (rejected == 0) return;
  setField(cb, K.CONTROL_ERRORS, field(cb, K.CONTROL_ERRORS) + rejected);
  setField(cb, K.CONTROL_NEEDS_RESET, 1);
  setField(cb, K.CONTROL_LAST_ERROR, reason);
}

/** A queue-level error: the queue processes nothing more until it is reset. */
export function failQueue(cb: u32, reason: u32): void {
  setField(cb, K.CONTROL_STATUS, reason);
  reject(cb, 1, reason);
}
