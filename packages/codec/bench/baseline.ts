/**
 * The benchmark's baseline: a hand-written, straight-line DataView decoder for exactly the
 * messages in the benchmark mixes, the way one would write it without a spec or a generator.
 * It checks the same things the generated decoder checks (header, id, sizes, counts) and
 * returns the same result shape, so the comparison measures decoding, not API differences.
 */
const HEADER = 12;

const NAMES: string[] = [];
Object.assign(NAMES, {
  1: 'VHOST_USER_GET_FEATURES',
  2: 'VHOST_USER_SET_FEATURES',
  3: 'VHOST_USER_SET_OWNER',
  8: 'VHOST_USER_SET_VRING_NUM',
  9: 'VHOST_USER_SET_VRING_ADDR',
  10: 'VHOST_USER_SET_VRING_BASE',
  11: 'VHOST_USER_GET_VRING_BASE',
  12: 'VHOST_USER_SET_VRING_KICK',
  13: 'VHOST_USER_SET_VRING_CALL',
  14: 'VHOST_USER_SET_VRING_ERR',
  15: 'VHOST_USER_GET_PROTOCOL_FEATURES',
  16: 'VHOST_USER_SET_PROTOCOL_FEATURES',
  17: 'VHOST_USER_GET_QUEUE_NUM',
  18: 'VHOST_USER_SET_VRING_ENABLE',
  21: 'VHOST_USER_SET_BACKEND_REQ_FD',
  22: 'VHOST_USER_IOTLB_MSG',
  24: 'VHOST_USER_GET_CONFIG',
  35: 'VHOST_USER_VRING_KICK',
  36: 'VHOST_USER_GET_MAX_MEM_SLOTS',
  37: 'VHOST_USER_ADD_MEM_REG',
  38: 'VHOST_USER_REM_MEM_REG',
  44: 'VHOST_USER_GET_SHMEM_CONFIG',
});

function fail(message: string): never {
  throw new Error(message);
}

export function baselineDecode(bytes: Uint8Array): unknown {
  if (bytes.length < HEADER) fail('truncated');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const id = v.getUint32(0, true);
  const flags = v.getUint32(4, true);
  const size = v.getUint32(8, true);
  if ((flags & 3) !== 1 || (flags & 0xfffffff0) !== 0) fail('flags');
  if (size > 4096 || bytes.length !== HEADER + size) fail('size');
  const reply = (flags & 4) !== 0;
  let payload: unknown = null;
  switch (id) {
    case 1:
    case 15:
    case 17:
    case 36:
    case 2:
    case 16:
    case 12:
    case 13:
    case 14:
    case 21:
    case 3:
      if (size === 8) payload = { value: v.getBigUint64(12, true) };
      else if (size !== 0) fail('size');
      break;
    case 8:
    case 10:
    case 18:
    case 35:
    case 11:
      if (size !== 8) fail('size');
      payload =
        reply && id !== 11
          ? { value: v.getBigUint64(12, true) }
          : { index: v.getUint32(12, true), num: v.getUint32(16, true) };
      break;
    case 9:
      if (reply) {
        if (size !== 8) fail('size');
        payload = { value: v.getBigUint64(12, true) };
      } else {
        if (size !== 40) fail('size');
        payload = {
          index: v.getUint32(12, true),
          flags: v.getUint32(16, true),
          descriptor: v.getBigUint64(20, true),
          used: v.getBigUint64(28, true),
          available: v.getBigUint64(36, true),
          log: v.getBigUint64(44, true),
        };
      }
      break;
    case 22:
      if (reply) {
        if (size !== 8) fail('size');
        payload = { value: v.getBigUint64(12, true) };
      } else {
        if (size !== 32) fail('size');
        payload = {
          iova: v.getBigUint64(12, true),
          size: v.getBigUint64(20, true),
          userAddress: v.getBigUint64(28, true),
          perm: v.getUint8(36),
          type: v.getUint8(37),
        };
      }
      break;
    case 24: {
      if (size < 12) fail('size');
      const n = v.getUint32(16, true);
      if (n > 256 || size !== 12 + n) fail('size');
      payload = { offset: v.getUint32(12, true), flags: v.getUint32(20, true), data: bytes.slice(24, 24 + n) };
      break;
    }
    case 37:
    case 38:
      if (reply) {
        if (size !== 8) fail('size');
        payload = { value: v.getBigUint64(12, true) };
      } else {
        if (size !== 40) fail('size');
        payload = {
          region: {
            guestAddress: v.getBigUint64(20, true),
            size: v.getBigUint64(28, true),
            userAddress: v.getBigUint64(36, true),
            mmapOffset: v.getBigUint64(44, true),
          },
        };
      }
      break;
    case 44: {
      if (size !== 2056) fail('size');
      const sizes: bigint[] = new Array(256);
      for (let i = 0; i < 256; i++) sizes[i] = v.getBigUint64(20 + i * 8, true);
      payload = { nregions: v.getUint32(12, true), memorySizes: sizes };
      break;
    }
    default:
      fail(`unknown ${id}`);
  }
  const name = NAMES[id] as string;
  if (reply)
    return {
      channel: 'frontend',
      kind: 'reply',
      id,
      name,
      flags,
      size,
      payload,
      ack: size === 8 && id !== 1 && id !== 15 && id !== 17 && id !== 36 && id !== 11,
    };
  return { channel: 'frontend', kind: 'request', id, name, flags, size, payload, needReply: (flags & 8) !== 0 };
}
