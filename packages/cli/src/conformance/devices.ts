/**
 * Device profiles: what the suite needs to know about a device to drive its data path (which
 * ring, what one request looks like). The generic profile needs nothing beyond the spec (ring
 * set-up, enable, stop, base, memory) and runs no data-path case; a profile is picked from what
 * the device reports (queue count, config space) when --device does not name one.
 */
import { hasFeature } from '@vhost-user/codec';
import { VIRTIO_BLK, type FrontendGuestMemory } from '@vhost-user/transport';

export interface DeviceRequest {
  buffers: { addr: number; length: number; writable: boolean }[];
  /** A writable byte the device overwrites when it processes the request (blk status). */
  marker?: { addr: number; length: number };
}

export interface DeviceProfile {
  name: string;
  summary: string;
  /** The ring set-up, stop and data-path cases use. */
  queue: number;
  /** One request proving the ring is processed; absent: no data-path case runs. */
  request?(memory: FrontendGuestMemory): DeviceRequest;
}

const generic: DeviceProfile = {
  name: 'generic',
  summary: 'any device: ring 0 set-up, enable, stop and base; no data path',
  queue: 0,
};

const blk: DeviceProfile = {
  name: 'blk',
  summary: 'virtio-blk: a GET_ID request on ring 0',
  queue: 0,
  request(memory) {
    // virtio-blk GET_ID (type 8): a 16-byte header, 20 bytes of id, one status byte.
    const header = memory.allocate(16);
    new DataView(memory.view(header, 16).buffer, memory.offsetOf(header), 16).setUint32(0, 8, true);
    const id = memory.allocate(20);
    memory.view(id, 20).fill(0);
    const status = memory.allocate(1);
    memory.view(status, 1).fill(0xff);
    return {
      buffers: [
        { addr: header, length: 16, writable: false },
        { addr: id, length: 20, writable: true },
        { addr: status, length: 1, writable: true },
      ],
      marker: { addr: status, length: 1 },
    };
  },
};

const net: DeviceProfile = {
  name: 'net',
  summary: 'virtio-net: one broadcast frame on the first TX ring (ring 1)',
  queue: 1,
  request(memory) {
    // A 12-byte virtio-net header (all zero: no offloads) and a 60-byte broadcast frame.
    const frame = memory.allocate(72);
    const bytes = memory.view(frame, 72);
    bytes.fill(0);
    bytes.fill(0xff, 12, 18);
    return { buffers: [{ addr: frame, length: 72, writable: false }] };
  },
};

/** A device that only fills buffers the driver gives it (virtio-rng): one writable buffer on ring 0. */
const writableOnly: DeviceProfile = {
  name: 'entropy',
  summary: 'writable-only (virtio-rng and alike): one device-writable 64-byte buffer on ring 0',
  queue: 0,
  request(memory) {
    const buffer = memory.allocate(64);
    memory.view(buffer, 64).fill(0);
    return { buffers: [{ addr: buffer, length: 64, writable: true }] };
  },
};

export const DEVICES: Readonly<Record<string, DeviceProfile>> = {
  generic,
  blk,
  net,
  entropy: writableOnly,
  'writable-only': writableOnly,
  rng: writableOnly,
};

/** What a probe session learned about the device. */
export interface DeviceFacts {
  /** GET_FEATURES' answer. */
  features: bigint;
  /** GET_QUEUE_NUM's answer (MQ offered). */
  queueCount?: number;
  /** CONFIG offered. */
  config: boolean;
  /** The first CONFIG_PROBE_BYTES of the config space (CONFIG offered and the read answered). */
  configBytes?: Uint8Array;
}

/** Config bytes the probe reads: enough to reach virtio-blk's blk_size. */
export const CONFIG_PROBE_BYTES = VIRTIO_BLK.CONFIG_BLK_SIZE + 4;

/** virtio-blk's block size, when the device offers VIRTIO_BLK_F_BLK_SIZE and the config holds a plausible one. */
function blkSizeOf(facts: DeviceFacts): number | undefined {
  const bytes = facts.configBytes;
  if (!hasFeature(facts.features, VIRTIO_BLK.F_BLK_SIZE) || !bytes || bytes.length < CONFIG_PROBE_BYTES)
    return undefined;
  const size = new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(VIRTIO_BLK.CONFIG_BLK_SIZE, true);
  return size >= 512 && size <= 65536 && (size & (size - 1)) === 0 ? size : undefined;
}

/**
 * The profile for a device --device did not name, and why: a single ring and no config space is
 * how a writable-only device (virtio-rng) looks; VIRTIO_BLK_F_BLK_SIZE with a power-of-two block
 * size in the config space is a block device; anything else gets the generic profile (net is
 * never guessed: a net back-end may wait for whole queue pairs, which its profile does not set up).
 */
export function pickProfile(facts: DeviceFacts): { profile: DeviceProfile; reason: string } {
  if (facts.queueCount === 1 && !facts.config)
    return { profile: writableOnly, reason: 'one queue and no config space' };
  const blkSize = blkSizeOf(facts);
  if (blkSize !== undefined)
    return {
      profile: blk,
      reason: `VIRTIO_BLK_F_BLK_SIZE offered and a ${blkSize}-byte block size in the config space`,
    };
  const queues = facts.queueCount === undefined ? 'queue count unknown (no MQ)' : `${facts.queueCount} queues`;
  return {
    profile: generic,
    reason: `${queues}${facts.config ? ', a config space' : ''}: no known device type; pass --device blk|net|entropy for data-path cases`,
  };
}
