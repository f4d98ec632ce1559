/**
 * The benchmark's baselines: a hand-written, straight-line DataView decoder and encoder for
 * exactly the messages in the benchmark mixes, the way one would write them without a spec or a
 * generator. The decoder checks what the generated decoder checks (header, id, sizes, counts)
 * and returns the same result shape; the encoder takes the same message objects, range-checks
 * every value as the generated encoders do and writes into the caller's buffer. So the
 * comparisons measure decoding and encoding, not API differences.
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

const IDS = new Map<string, number>(Object.entries(NAMES).map(([id, name]) => [name, Number(id)]));
const U64_MAX = (1n << 64n) - 1n;

function u32(v: number): number {
  if (v >>> 0 !== v) fail('u32 out of range');
  return v;
}
function u8(v: number): number {
  if ((v & 0xff) !== v) fail('u8 out of range');
  return v;
}
function u64(v: bigint): bigint {
  if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) fail('u64 out of range');
  return v;
}

interface Outgoing {
  kind?: 'request' | 'reply';
  ack?: boolean;
  name: string;
  needReply?: boolean;
  payload: unknown;
}

let lastTarget: Uint8Array | undefined;
let lastView: DataView | undefined;

/** Encodes one message into `target` at 0; returns its length. */
export function baselineEncode(m: Outgoing, target: Uint8Array): number {
  const id = IDS.get(m.name);
  if (id === undefined) fail(`unknown ${m.name}`);
  if (target !== lastTarget) {
    lastView = new DataView(target.buffer, target.byteOffset, target.byteLength);
    lastTarget = target;
  }
  const v = lastView as DataView;
  const reply = m.kind === 'reply';
  const p = m.payload as Record<string, unknown> | null;
  let size = 0;
  if (p !== null) {
    if (m.ack || (reply && id !== 11 && id !== 24 && id !== 44)) size = 8;
    else
      switch (id) {
        case 8:
        case 10:
        case 18:
        case 35:
        case 11:
          size = 8;
          break;
        case 9:
        case 37:
        case 38:
          size = 40;
          break;
        case 22:
          size = 32;
          break;
        case 24:
          size = 12 + (p.data as Uint8Array).length;
          break;
        case 44:
          size = 2056;
          break;
        default:
          size = 8;
      }
  }
  if (12 + size > target.length) fail('buffer too small');
  v.setUint32(0, id, true);
  v.setUint32(4, reply ? 5 : m.needReply ? 9 : 1, true);
  v.setUint32(8, size, true);
  if (p === null) return 12;
  if (size === 8 && (m.ack || reply || !(id === 8 || id === 10 || id === 18 || id === 35 || id === 11))) {
    if (reply && !m.ack && id === 11) {
      v.setUint32(12, u32(p.index as number), true);
      v.setUint32(16, u32(p.num as number), true);
    } else v.setBigUint64(12, u64(p.value as bigint), true);
    return 20;
  }
  switch (id) {
    case 8:
    case 10:
    case 18:
    case 35:
    case 11:
      v.setUint32(12, u32(p.index as number), true);
      v.setUint32(16, u32(p.num as number), true);
      break;
    case 9:
      v.setUint32(12, u32(p.index as number), true);
      v.setUint32(16, u32(p.flags as number), true);
      v.setBigUint64(20, u64(p.descriptor as bigint), true);
      v.setBigUint64(28, u64(p.used as bigint), true);
      v.setBigUint64(36, u64(p.available as bigint), true);
      v.setBigUint64(44, u64(p.log as bigint), true);
      break;
    case 22:
      v.setBigUint64(12, u64(p.iova as bigint), true);
      v.setBigUint64(20, u64(p.size as bigint), true);
      v.setBigUint64(28, u64(p.userAddress as bigint), true);
      v.setUint8(36, u8(p.perm as number));
      v.setUint8(37, u8(p.type as number));
      for (let i = 38; i < 44; i++) v.setUint8(i, 0);
      break;
    case 24: {
      const data = p.data as Uint8Array;
      if (data.length > 256) fail('config too large');
      v.setUint32(12, u32(p.offset as number), true);
      v.setUint32(16, data.length, true);
      v.setUint32(20, u32(p.flags as number), true);
      for (let i = 0; i < data.length; i++) v.setUint8(24 + i, data[i] as number);
      break;
    }
    case 37:
    case 38: {
      const r = p.region as Record<string, bigint>;
      v.setBigUint64(12, 0n, true);
      v.setBigUint64(20, u64(r.guestAddress as bigint), true);
      v.setBigUint64(28, u64(r.size as bigint), true);
      v.setBigUint64(36, u64(r.userAddress as bigint), true);
      v.setBigUint64(44, u64(r.mmapOffset as bigint), true);
      break;
    }
    case 44: {
      const sizes = p.memorySizes as bigint[];
      if (sizes.length !== 256) fail('memory_sizes');
      v.setUint32(12, u32(p.nregions as number), true);
      v.setUint32(16, 0, true);
      for (let i = 0; i < 256; i++) v.setBigUint64(20 + i * 8, u64(sizes[i] as bigint), true);
      break;
    }
    default:
      fail(`unknown ${id}`);
  }
  return 12 + size;
}
