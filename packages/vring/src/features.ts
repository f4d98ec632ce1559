/** Ring options derived from negotiated virtio feature bits (bit numbers from the codec). */
import { VirtioFeature, hasFeature } from '@vhost-user/codec';

export interface RingFeatures {
  /** VIRTIO_F_INDIRECT_DESC. */
  indirect: boolean;
  /** VIRTIO_F_EVENT_IDX. */
  eventIdx: boolean;
  /** VIRTIO_F_RING_PACKED: the packed layout instead of the split one. */
  packed: boolean;
}

export function ringFeatures(negotiated: bigint): RingFeatures {
  return {
    indirect: hasFeature(negotiated, VirtioFeature.VIRTIO_F_INDIRECT_DESC),
    eventIdx: hasFeature(negotiated, VirtioFeature.VIRTIO_F_EVENT_IDX),
    packed: hasFeature(negotiated, VirtioFeature.VIRTIO_F_RING_PACKED),
  };
}
