/**
 * Protocol facts checked against upstream, transcribed here by hand from QEMU's
 * docs/interop/vhost-user.rst (newest text, with SHMEM and SKIP_DRAIN), QEMU's
 * hw/virtio/vhost-user.c structs, Linux's vhost_types.h and the virtio specification, and
 * NOT read from spec/. If spec/ and this file disagree, one of them misread upstream.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkRepository, type SpecModel } from '../src/index.js';

const root = join(new URL('.', import.meta.url).pathname, '../..');
const { repo, issues } = checkRepository(root);
const draft = repo?.draft as SpecModel;

const FRONTEND: Record<string, number> = {
  GET_FEATURES: 1,
  SET_FEATURES: 2,
  SET_OWNER: 3,
  RESET_OWNER: 4,
  SET_MEM_TABLE: 5,
  SET_LOG_BASE: 6,
  SET_LOG_FD: 7,
  SET_VRING_NUM: 8,
  SET_VRING_ADDR: 9,
  SET_VRING_BASE: 10,
  GET_VRING_BASE: 11,
  SET_VRING_KICK: 12,
  SET_VRING_CALL: 13,
  SET_VRING_ERR: 14,
  GET_PROTOCOL_FEATURES: 15,
  SET_PROTOCOL_FEATURES: 16,
  GET_QUEUE_NUM: 17,
  SET_VRING_ENABLE: 18,
  SEND_RARP: 19,
  NET_SET_MTU: 20,
  SET_BACKEND_REQ_FD: 21,
  IOTLB_MSG: 22,
  SET_VRING_ENDIAN: 23,
  GET_CONFIG: 24,
  SET_CONFIG: 25,
  CREATE_CRYPTO_SESSION: 26,
  CLOSE_CRYPTO_SESSION: 27,
  POSTCOPY_ADVISE: 28,
  POSTCOPY_LISTEN: 29,
  POSTCOPY_END: 30,
  GET_INFLIGHT_FD: 31,
  SET_INFLIGHT_FD: 32,
  GPU_SET_SOCKET: 33,
  RESET_DEVICE: 34,
  VRING_KICK: 35,
  GET_MAX_MEM_SLOTS: 36,
  ADD_MEM_REG: 37,
  REM_MEM_REG: 38,
  SET_STATUS: 39,
  GET_STATUS: 40,
  GET_SHARED_OBJECT: 41,
  SET_DEVICE_STATE_FD: 42,
  CHECK_DEVICE_STATE: 43,
  GET_SHMEM_CONFIG: 44,
  GET_VRING_BASE_SKIP_DRAIN: 45,
};

const BACKEND: Record<string, number> = {
  IOTLB_MSG: 1,
  CONFIG_CHANGE_MSG: 2,
  VRING_HOST_NOTIFIER_MSG: 3,
  VRING_CALL: 4,
  VRING_ERR: 5,
  SHARED_OBJECT_ADD: 6,
  SHARED_OBJECT_REMOVE: 7,
  SHARED_OBJECT_LOOKUP: 8,
  SHMEM_MAP: 9,
  SHMEM_UNMAP: 10,
};

const PROTOCOL_BITS: Record<string, number> = {
  MQ: 0,
  LOG_SHMFD: 1,
  RARP: 2,
  REPLY_ACK: 3,
  MTU: 4,
  BACKEND_REQ: 5,
  CROSS_ENDIAN: 6,
  CRYPTO_SESSION: 7,
  PAGEFAULT: 8,
  CONFIG: 9,
  BACKEND_SEND_FD: 10,
  HOST_NOTIFIER: 11,
  INFLIGHT_SHMFD: 12,
  RESET_DEVICE: 13,
  INBAND_NOTIFICATIONS: 14,
  CONFIGURE_MEM_SLOTS: 15,
  STATUS: 16,
  XEN_MMAP: 17,
  SHARED_OBJECT: 18,
  DEVICE_STATE: 19,
  GET_VRING_BASE_INFLIGHT: 20,
  GPA_ADDRESSES: 21,
  SHMEM: 22,
  GET_VRING_BASE_SKIP_DRAIN: 23,
};

/** name -> [size, [field offsets in order]] */
const LAYOUTS: Record<string, [number | null, number[]]> = {
  U64: [8, [0]],
  VringState: [8, [0, 4]],
  VringBase: [8, [0, 4]],
  VringAddr: [40, [0, 4, 8, 16, 24, 32]],
  MemoryRegion: [32, [0, 8, 16, 24]],
  MemoryTable: [null, [0, 4, 8]],
  SingleMemoryRegion: [40, [0, 8]],
  Log: [16, [0, 8]],
  IotlbMsg: [32, [0, 8, 16, 24, 25, 26]],
  Config: [null, [0, 4, 8, 12]],
  VringArea: [24, [0, 8, 16]],
  Inflight: [24, [0, 8, 16, 18, 20]],
  Shared: [16, [0]],
  DeviceStateTransfer: [8, [0, 4]],
  MMap: [40, [0, 1, 8, 16, 24, 32]],
  ShMemConfig: [2056, [0, 4, 8]],
  DescStateSplit: [16, [0, 1, 6, 8]],
  DescStatePacked: [32, [0, 1, 2, 4, 6, 8, 16, 18, 20, 24]],
};

const message = (channel: 'frontend' | 'backend', name: string) =>
  draft.messages.find((m) => m.channel === channel && m.name === name);
const payload = (name: string) => draft.payloads.find((p) => p.name === name);
const feature = (name: string) => draft.protocolFeatures.find((b) => b.name === name);

describe('the spec repository', () => {
  it('lints clean, draft and every release', () => {
    expect(issues.map((i) => `${i.loc.file}:${i.loc.line} ${i.rule}: ${i.message}`)).toEqual([]);
    expect(repo?.releases.map((r) => r.meta.version)).toEqual(['1.0', '1.1', '1.2']);
  });
});

describe('numbers match upstream', () => {
  it.each(Object.entries(FRONTEND))('front-end VHOST_USER_%s is %i', (name, id) => {
    expect(message('frontend', `VHOST_USER_${name}`)?.id).toBe(id);
  });
  it.each(Object.entries(BACKEND))('back-end VHOST_USER_BACKEND_%s is %i', (name, id) => {
    expect(message('backend', `VHOST_USER_BACKEND_${name}`)?.id).toBe(id);
  });
  it.each(Object.entries(PROTOCOL_BITS))('VHOST_USER_PROTOCOL_F_%s is bit %i', (name, bit) => {
    expect(feature(`VHOST_USER_PROTOCOL_F_${name}`)?.bit).toBe(bit);
  });
  it('has exactly the upstream messages and bits, no more', () => {
    expect(draft.messages.filter((m) => m.channel === 'frontend').length).toBe(Object.keys(FRONTEND).length);
    expect(draft.messages.filter((m) => m.channel === 'backend').length).toBe(Object.keys(BACKEND).length);
    expect(draft.protocolFeatures.length).toBe(Object.keys(PROTOCOL_BITS).length);
  });
  it('virtio bits vhost-user relies on', () => {
    const bit = (name: string) => draft.virtioFeatures.find((b) => b.name === name)?.bit;
    expect(bit('VHOST_USER_F_PROTOCOL_FEATURES')).toBe(30);
    expect(bit('VHOST_F_LOG_ALL')).toBe(26);
    expect(bit('VIRTIO_F_INDIRECT_DESC')).toBe(28);
    expect(bit('VIRTIO_F_EVENT_IDX')).toBe(29);
    expect(bit('VIRTIO_F_VERSION_1')).toBe(32);
    expect(bit('VIRTIO_F_ACCESS_PLATFORM')).toBe(33);
    expect(bit('VIRTIO_F_RING_PACKED')).toBe(34);
    expect(bit('VIRTIO_F_IN_ORDER')).toBe(35);
  });
});

describe('layouts match upstream', () => {
  it.each(Object.entries(LAYOUTS))('%s', (name, [size, offsets]) => {
    const p = payload(name);
    expect(p?.size).toBe(size);
    expect(p?.fields.map((f) => f.offset)).toEqual(offsets);
  });
  it('header is 12 bytes: request, flags, size; version 1 in bits 0-1, reply 0x4, need_reply 0x8', () => {
    expect(draft.header.size).toBe(12);
    expect(draft.header.fields.map((f) => [f.name, f.offset])).toEqual([
      ['request', 0],
      ['flags', 4],
      ['size', 8],
    ]);
    expect(draft.header.version).toEqual({ mask: 0x3, value: 0x1 });
    expect(draft.header.flags.map((f) => f.mask)).toEqual([0x4, 0x8]);
    expect(draft.header.reservedMask >>> 0).toBe(0xfffffff0);
  });
  it('SET_MEM_TABLE carries at most 8 regions; config space at most 256 bytes', () => {
    expect(payload('MemoryTable')?.maxSize).toBe(8 + 8 * 32);
    expect(payload('Config')?.maxSize).toBe(12 + 256);
  });
  it('kick/call/err u64: ring index in bits 0-7, invalid fd in bit 8', () => {
    const bits = payload('VringFd')?.fields[0]?.bits;
    expect(bits?.find((b) => b.name === 'index')).toMatchObject({ lsb: 0, width: 8 });
    expect(bits?.find((b) => b.name === 'invalid_fd')).toMatchObject({ lsb: 8, width: 1 });
  });
  it('packed ring base: avail 0-14, avail wrap 15, used 16-30, used wrap 31', () => {
    const packed = payload('VringBase')?.fields[1]?.views?.find((v) => v.name === 'packed')?.bits;
    expect(packed?.map((b) => [b.lsb, b.width])).toEqual([
      [0, 15],
      [15, 1],
      [16, 15],
      [31, 1],
    ]);
  });
  it('XEN_MMAP extends a region to 40 bytes with flags and domid', () => {
    expect(payload('MemoryRegion')?.extension).toMatchObject({
      protocolFeature: 'VHOST_USER_PROTOCOL_F_XEN_MMAP',
      size: 40,
    });
  });
  it('split and packed ring structs', () => {
    const { split, packed } = draft.rings;
    expect(split.structs.find((s) => s.name === 'SplitDesc')?.fields.map((f) => f.offset)).toEqual([0, 8, 12, 14]);
    expect(packed.structs.find((s) => s.name === 'PackedDesc')?.fields.map((f) => [f.name, f.offset])).toEqual([
      ['addr', 0],
      ['len', 8],
      ['id', 12],
      ['flags', 14],
    ]);
    const constant = (ring: typeof split, name: string) => ring.constants.find((c) => c.name === name)?.value;
    expect(constant(packed, 'VIRTQ_DESC_F_AVAIL')).toBe(1 << 7);
    expect(constant(packed, 'VIRTQ_DESC_F_USED')).toBe(1 << 15);
    expect(constant(split, 'VIRTQ_DESC_F_INDIRECT')).toBe(4);
    expect(split.areas.map((a) => a.align)).toEqual([16, 2, 4]);
  });
});

describe('rules match upstream', () => {
  it('SKIP_DRAIN (23) needs GET_VRING_BASE_INFLIGHT (20) and INFLIGHT_SHMFD (12)', () => {
    expect(feature('VHOST_USER_PROTOCOL_F_GET_VRING_BASE_SKIP_DRAIN')?.requires?.sort()).toEqual(
      ['VHOST_USER_PROTOCOL_F_GET_VRING_BASE_INFLIGHT', 'VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD'].sort(),
    );
  });
  it('INBAND_NOTIFICATIONS needs BACKEND_REQ and REPLY_ACK', () => {
    expect(feature('VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS')?.requires?.sort()).toEqual(
      ['VHOST_USER_PROTOCOL_F_BACKEND_REQ', 'VHOST_USER_PROTOCOL_F_REPLY_ACK'].sort(),
    );
  });
  it('messages that always reply', () => {
    const always = draft.messages
      .filter((m) => m.channel === 'frontend' && m.reply.kind === 'always')
      .map((m) => m.name.replace('VHOST_USER_', ''));
    for (const name of [
      'GET_FEATURES',
      'GET_PROTOCOL_FEATURES',
      'GET_VRING_BASE',
      'GET_VRING_BASE_SKIP_DRAIN',
      'GET_QUEUE_NUM',
      'GET_CONFIG',
      'GET_MAX_MEM_SLOTS',
      'GET_STATUS',
      'GET_SHMEM_CONFIG',
    ]) {
      expect(always).toContain(name);
    }
    const setLogBase = message('frontend', 'VHOST_USER_SET_LOG_BASE')?.reply;
    expect(setLogBase).toMatchObject({ kind: 'conditional', protocolFeature: 'VHOST_USER_PROTOCOL_F_LOG_SHMFD' });
  });
  it('fd rules of the messages that carry fds', () => {
    const rule = (name: string) => message('frontend', `VHOST_USER_${name}`)?.fds.request.rule;
    expect(rule('SET_MEM_TABLE')).toBe('one-per-region');
    expect(rule('ADD_MEM_REG')).toBe('one');
    expect(rule('SET_VRING_KICK')).toBe('one-unless-invalid-fd');
    expect(rule('SET_VRING_CALL')).toBe('one-unless-invalid-fd');
    expect(rule('SET_BACKEND_REQ_FD')).toBe('one');
    expect(rule('SET_LOG_BASE')).toBe('one-if-feature');
    expect(rule('REM_MEM_REG')).toBe('none-tolerate-one');
    expect(message('frontend', 'VHOST_USER_SET_DEVICE_STATE_FD')?.fds.reply.rule).toBe('one-unless-invalid-fd');
  });
  it('postcopy is forbidden with CONFIGURE_MEM_SLOTS', () => {
    const rule = draft.rules.preconditions.find((r) => r.id === 'postcopy-forbidden-with-mem-slots');
    expect(rule).toMatchObject({
      level: 'MUST NOT',
      condition: { protocolFeature: 'VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS' },
    });
  });
  it('rings start stopped and disabled', () => {
    expect(draft.rules.ringStates.initial).toEqual(['stopped', 'disabled']);
  });
});

describe('history', () => {
  const release = (v: string) => repo?.releases.find((r) => r.meta.version === v) as SpecModel;
  it('1.0 is the protocol of QEMU 7.2: bits 0-16, front-end ids 1-40, back-end ids 1-5', () => {
    const r = release('1.0');
    expect(Math.max(...r.protocolFeatures.map((b) => b.bit))).toBe(16);
    expect(Math.max(...r.messages.filter((m) => m.channel === 'frontend').map((m) => m.id))).toBe(40);
    expect(Math.max(...r.messages.filter((m) => m.channel === 'backend').map((m) => m.id))).toBe(5);
  });
  it('1.1 adds Xen mappings, shared objects and device state', () => {
    const r = release('1.1');
    expect(Math.max(...r.protocolFeatures.map((b) => b.bit))).toBe(19);
    expect(Math.max(...r.messages.filter((m) => m.channel === 'frontend').map((m) => m.id))).toBe(43);
    expect(Math.max(...r.messages.filter((m) => m.channel === 'backend').map((m) => m.id))).toBe(8);
  });
  it('1.2 adds SHMEM (bit 22) with GPA_ADDRESSES, GET_VRING_BASE_INFLIGHT and SKIP_DRAIN', () => {
    const r = release('1.2');
    expect(r.protocolFeatures.find((b) => b.name === 'VHOST_USER_PROTOCOL_F_SHMEM')?.bit).toBe(22);
    expect(r.messages.find((m) => m.name === 'VHOST_USER_GET_VRING_BASE_SKIP_DRAIN')?.id).toBe(45);
  });
});
