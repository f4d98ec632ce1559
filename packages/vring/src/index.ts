/**
 * @vhost-user/vring: split and packed virtqueues, driver and device side, over guest memory held
 * in one WebAssembly.Memory. The per-chain work runs in a WebAssembly core or, with identical
 * semantics, in TypeScript.
 */
export { GuestMemory, type GuestRegion, type CreateGuestMemoryOptions } from './memory.js';
export { VirtqueueDevice, VirtqueueDriver, type QueueOptions, type RingLayout } from './queue.js';
export { REJECT, rejectName, type RejectCode, type RejectName } from './reasons.js';
export { VringError, type VringErrorCode } from './errors.js';
export { ringFeatures, type RingFeatures } from './features.js';
export { needEvent, needEventPacked } from './notify.js';
export type { Engine, EngineName } from './engine.js';
export type { ChainFiller, ChainHandler, CompletionFolder } from './handlers.js';
export { createTsEngine } from './engine-ts.js';
export { createWasmEngine, coreModule } from './engine-wasm.js';
export {
  CHAIN_RECORD,
  COMPACT_RECORD,
  SEGMENT_RECORD,
  USED_RECORD,
  BUFFER_SPEC,
  RECLAIM_RECORD,
  CONTROL,
} from './layout.js';
