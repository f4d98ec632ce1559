/**
 * What a vhost-user device implements for the back-end (the counterpart of rust-vmm's
 * VhostUserBackend trait): the features it offers, its queues, config space, request handling
 * that may complete later, and hooks for memory changes, resets and disposal.
 */
import type { ChainHandler } from '@vhost-user/vring';
import type { DeviceStateOwner } from './device-state.js';
import type { GuestRegion } from './memory.js';
import type { Chain } from './ring/queues.js';

export interface VhostUserDevice {
  /**
   * Virtio features offered: device bits, VIRTIO_F_VERSION_1, and the ring features the device
   * handles (VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED: the ring core
   * supports all three). VHOST_USER_F_PROTOCOL_FEATURES is added by the back-end.
   */
  readonly features: bigint;
  /**
   * Protocol features offered, if the device chooses them (the back-end keeps only those it
   * implements, see BACKEND_PROTOCOL_FEATURES). Absent: all of those, CONFIG only with getConfig.
   */
  readonly protocolFeatures?: bigint;
  readonly queueCount: number;
  /** Largest ring size accepted (SET_VRING_NUM). Default 32768, the virtio maximum. */
  readonly maxQueueSize?: number;
  /** Config space reads (GET_CONFIG). Absent: CONFIG is not offered. */
  getConfig?(offset: number, size: number): Uint8Array;
  setConfig?(offset: number, data: Uint8Array): void;
  /**
   * Chains were made available on a started, enabled ring: take them with `queue.pop()`. A
   * chain may be returned later (`queue.push`, then `queue.notify`), after asynchronous work;
   * a promise returned here only reports errors (a rejection fails the ring).
   */
  process(queue: DeviceQueue): void | Promise<void>;
  /** The guest memory table changed (regions added, removed or replaced). */
  memoryChanged?(regions: readonly GuestRegion[]): void;
  /** The driver reset the device (RESET_DEVICE, status 0, or the session ended). */
  reset?(): void;
  /** The session ended: release what the device holds. */
  dispose?(): void | Promise<void>;
  /** Device state transfer (DEVICE_STATE is offered when both are present): device-state.ts. */
  saveState?: DeviceStateOwner['saveState'];
  loadState?: DeviceStateOwner['loadState'];
}

/** A ring as a device sees it: take chains, return them, notify the driver. The same object
 *  serves the ring for the whole session, so a device may keep it for late completions. */
export interface DeviceQueue {
  readonly index: number;
  /** The memory where guest RAM is mapped (segments are offsets into it). */
  readonly bytes: Uint8Array;
  /** The next available chain, or null. */
  pop(): Chain | null;
  /** Returns a chain with `written` bytes; the driver learns of it at `notify()`. A chain of a
   *  ring that was stopped or reset meanwhile is dropped. */
  push(head: number, written: number): void;
  /** Publishes returned chains and signals the call eventfd if the driver wants interrupts. */
  notify(): void;
  /**
   * Serves every available chain through `handler` (its first readable and first writable
   * buffer; it returns the bytes written) and returns how many it served: the ring core's fused
   * pass when all of guest memory is mapped, chain by chain otherwise. Call `notify()` after.
   * Completes each chain at once: for request/response devices that answer synchronously.
   */
  serve(handler: ChainHandler): number;
}
