/**
 * The net device the TS back-end serves in `bench:net`: a packet sink like the transport's
 * NetSinkDevice, but it takes the transmit ring's chains through the ring core's fused serve
 * pass (one call per kick, no chain objects) instead of pop/push.
 */
import { VirtioFeature, featureMask } from '@vhost-user/codec';
import type { ChainHandler } from '@vhost-user/vring';
import type { DeviceQueue, VhostUserDevice } from '../src/index.js';

export class FusedNetSink implements VhostUserDevice, ChainHandler {
  readonly features = featureMask(VirtioFeature.VIRTIO_F_VERSION_1);
  /** One queue pair: 0 receive (left empty), 1 transmit. */
  readonly queueCount = 2;
  packets = 0;
  /** Bytes of the first readable buffer of each chain (virtio-net header included). */
  bytes = 0;

  process(queue: DeviceQueue): void {
    if (queue.index % 2 === 0) return; // receive ring: this sink delivers nothing
    if (queue.serve(this) > 0) queue.notify();
  }

  serve(_id: number, _readAt: number, readLength: number): number {
    this.packets++;
    this.bytes += readLength;
    return 0; // a transmit chain is read-only: nothing written back
  }
}
