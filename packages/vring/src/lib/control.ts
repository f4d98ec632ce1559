// Control block access and error accounting of the TypeScript path (twin of wasm/lib/control.ts),
// on the bound views (lib/views.ts).
import * as K from '../generated/constants.js';
import { U32 } from './views.js';

export const field = (cb: number, offset: number): number => U32[(cb + offset) >>> 2]!;

export const setField = (cb: number, offset: number, value: number): void => {
  U32[(cb + offset) >>> 2] = value;
};

/** Counts `rejected` chains (or bad used elements) and remembers the last reason. */
export function reject(cb: number, rejected: number, reason: number): void {
  if (rejected === 0) return;
  setField(cb, K.CONTROL_ERRORS, (field(cb, K.CONTROL_ERRORS) + rejected) >>> 0);
  setField(cb, K.CONTROL_NEEDS_RESET, 1);
  setField(cb, K.CONTROL_LAST_ERROR, reason);
}

/** A queue-level error: the queue processes nothing more until it is reset. */
export function failQueue(cb: number, reason: number): void {
  setField(cb, K.CONTROL_STATUS, reason);
  reject(cb, 1, reason);
}
