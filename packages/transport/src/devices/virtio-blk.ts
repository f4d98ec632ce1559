/**
 * virtio-blk facts used by the vhost-user-blk devices here. Feature bits come from the spec data
 * (spec/features/virtio.yaml, scope blk); request layout, types and status values belong to the
 * virtio device spec and are not in the vhost-user tables.
 */
import { VirtioFeature } from '@vhost-user/codec';

export const VIRTIO_BLK = {
  /** Request types (struct virtio_blk_req.type). */
  T_IN: 0,
  T_OUT: 1,
  T_FLUSH: 4,
  T_GET_ID: 8,
  /** Status byte values. */
  S_OK: 0,
  S_IOERR: 1,
  S_UNSUPP: 2,
  /** Feature bits (from the spec data). */
  F_SIZE_MAX: VirtioFeature.VIRTIO_BLK_F_SIZE_MAX,
  F_SEG_MAX: VirtioFeature.VIRTIO_BLK_F_SEG_MAX,
  F_RO: VirtioFeature.VIRTIO_BLK_F_RO,
  F_BLK_SIZE: VirtioFeature.VIRTIO_BLK_F_BLK_SIZE,
  F_FLUSH: VirtioFeature.VIRTIO_BLK_F_FLUSH,
  F_MQ: VirtioFeature.VIRTIO_BLK_F_MQ,
  /** Request header: type u32, reserved u32, sector u64. */
  HEADER_SIZE: 16,
  SECTOR_SIZE: 512,
  /** Bytes of the device id string (GET_ID). */
  ID_BYTES: 20,
  /** Config space offsets (little-endian). */
  CONFIG_CAPACITY: 0,
  CONFIG_SIZE_MAX: 8,
  CONFIG_SEG_MAX: 12,
  CONFIG_BLK_SIZE: 20,
  /** u16 number of request queues (with VIRTIO_BLK_F_MQ). */
  CONFIG_NUM_QUEUES: 34,
  /** Bytes of config a back-end here reports (up to blk_size and topology; later fields are 0). */
  CONFIG_SIZE: 60,
} as const;
