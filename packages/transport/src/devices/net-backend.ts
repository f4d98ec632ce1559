/**
 * A minimal virtio-net back-end device: it takes every packet the driver transmits (TX ring,
 * index 1 of each queue pair), counts it and hands its frame to a callback; its RX rings stay
 * empty. Enough to prove a net front-end (DPDK virtio_user, QEMU) runs against this back-end.
 */
import { VirtioFeature, featureMask } from '@vhost-user/codec';
import type { DeviceQueue, VhostUserDevice } from '../backend.js';

/** virtio-net header size with VIRTIO_F_VERSION_1 (virtio spec; not a vhost-user fact). */
export const VIRTIO_NET_HDR_SIZE = 12;

export interface NetSinkOptions {
  queuePairs?: number;
  /** Sees each transmitted frame (a copy, header removed). */
  onFrame?: (frame: Uint8Array, queue: number) => void;
}

export class NetSinkDevice implements VhostUserDevice {
  readonly features = featureMask(VirtioFeature.VIRTIO_F_VERSION_1);
  readonly queueCount: number;
  packets = 0;
  bytes = 0;

  constructor(private readonly options: NetSinkOptions = {}) {
    this.queueCount = 2 * (options.queuePairs ?? 1);
  }

  process(queue: DeviceQueue): void {
    if (queue.index % 2 === 0) return; // RX: nothing to deliver
    let used = 0;
    for (let chain = queue.pop(); chain; chain = queue.pop()) {
      const length = chain.readable.reduce((n, s) => n + s.length, 0);
      if (length > VIRTIO_NET_HDR_SIZE) {
        this.packets++;
        this.bytes += length - VIRTIO_NET_HDR_SIZE;
        if (this.options.onFrame) {
          const frame = new Uint8Array(length);
          let at = 0;
          for (const s of chain.readable) {
            frame.set(queue.bytes.subarray(s.offset, s.offset + s.length), at);
            at += s.length;
          }
          this.options.onFrame(frame.subarray(VIRTIO_NET_HDR_SIZE), queue.index);
        }
      }
      queue.push(chain.head, 0);
      used++;
    }
    if (used > 0) queue.notify();
  }
}
