/**
 * virtio-blk facts used by the vhost-user-blk devices here. They belong to the virtio device
 * spec, not to vhost-user, so the vhost-user spec's generated tables do not carry them.
 */
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
  /** Feature bits. */
  F_SIZE_MAX: 1,
  F_SEG_MAX: 2,
  F_RO: 5,
  F_BLK_SIZE: 6,
  F_FLUSH: 9,
  F_MQ: 12,
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
