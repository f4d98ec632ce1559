/** encode() / decode() of whole messages: header handling, replies and acks, typed errors. */
import { describe, expect, it } from 'vitest';
import {
  FrontendRequest,
  HEADER,
  ProtocolFeature,
  VhostUserError,
  decode,
  encode,
  encodeAck,
  encodeInto,
  encodeReply,
  encodeRequest,
  featureMask,
  type VhostUserErrorCode,
} from '@vhost-user/codec';

const hex = (s: string) =>
  Uint8Array.from(
    s
      .replace(/\s+/g, '')
      .match(/../g)!
      .map((b) => parseInt(b, 16)),
  );
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function expectError(fn: () => unknown, code: VhostUserErrorCode, name?: string): VhostUserError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(VhostUserError);
    const e = error as VhostUserError;
    expect(e.code).toBe(code);
    if (name) expect(e.messageName).toBe(name);
    return e;
  }
  throw new Error(`expected a VhostUserError ${code}`);
}

describe('requests', () => {
  it('encodes GET_FEATURES as a bare header', () => {
    expect(toHex(encode('frontend', { name: 'VHOST_USER_GET_FEATURES', payload: null }))).toBe(
      '010000000100000000000000',
    );
  });

  it('sets need_reply when asked', () => {
    const bytes = encode('frontend', { name: 'VHOST_USER_SET_OWNER', payload: null, needReply: true });
    expect(toHex(bytes)).toBe('030000000900000000000000');
    const msg = decode('frontend', bytes);
    expect(msg.kind === 'request' && msg.needReply).toBe(true);
  });

  it('round-trips SET_VRING_ADDR with u64 addresses as bigint', () => {
    const payload = {
      index: 1,
      flags: 0,
      descriptor: 0x1000n,
      used: 0xffff_ffff_0000_2000n,
      available: 0x3000n,
      log: 0n,
    };
    const bytes = encode('frontend', { name: 'VHOST_USER_SET_VRING_ADDR', payload });
    expect(bytes.length).toBe(12 + 40);
    const msg = decode('frontend', bytes);
    expect(msg).toMatchObject({
      kind: 'request',
      name: 'VHOST_USER_SET_VRING_ADDR',
      id: FrontendRequest.VHOST_USER_SET_VRING_ADDR,
      payload,
    });
  });

  it('derives count fields from arrays (SET_MEM_TABLE nregions)', () => {
    const region = { guestAddress: 0n, size: 0x800_0000n, userAddress: 0x7f00_0000_0000n, mmapOffset: 0n };
    const bytes = encode('frontend', {
      name: 'VHOST_USER_SET_MEM_TABLE',
      payload: { regions: [region, { ...region, guestAddress: 0x1_0000_0000n }] },
    });
    expect(bytes.length).toBe(12 + 8 + 2 * 32);
    expect(new DataView(bytes.buffer).getUint32(12, true)).toBe(2);
    const msg = decode('frontend', bytes, { fds: 2 });
    expect(msg.payload).toMatchObject({ regions: [region, { ...region, guestAddress: 0x1_0000_0000n }] });
  });

  it('uses 40-byte regions when XEN_MMAP is negotiated', () => {
    const features = featureMask(ProtocolFeature.VHOST_USER_PROTOCOL_F_XEN_MMAP);
    const region = { guestAddress: 0n, size: 4096n, userAddress: 0n, mmapOffset: 0n, xenMmapFlags: 1, domid: 7 };
    const bytes = encode(
      'frontend',
      { name: 'VHOST_USER_ADD_MEM_REG', payload: { region } },
      { protocolFeatures: features },
    );
    expect(bytes.length).toBe(12 + 8 + 40);
    expect(decode('frontend', bytes, { protocolFeatures: features }).payload).toEqual({ region });
    expectError(() => decode('frontend', bytes), 'BAD_SIZE', 'VHOST_USER_ADD_MEM_REG');
  });

  it('reads big-endian peers when asked', () => {
    const bytes = encode(
      'frontend',
      { name: 'VHOST_USER_SET_FEATURES', payload: { value: 0x1_0000_0000n } },
      { byteOrder: 'big' },
    );
    expect(toHex(bytes.subarray(0, 4))).toBe('00000002');
    expect(decode('frontend', bytes, { byteOrder: 'big' }).payload).toEqual({ value: 0x1_0000_0000n });
  });
});

describe('replies', () => {
  it('decodes a GET_FEATURES reply body', () => {
    const msg = decode('frontend', hex('01000000 05000000 08000000 467e0075 01000000'));
    expect(msg).toMatchObject({ kind: 'reply', ack: false, payload: { value: 0x175007e46n } });
  });

  it('decodes an ack to a request without a reply body', () => {
    const msg = decode('frontend', hex('05000000 05000000 08000000 0000000000000000'));
    expect(msg).toMatchObject({ kind: 'reply', name: 'VHOST_USER_SET_MEM_TABLE', ack: true, payload: { value: 0n } });
  });

  it('decodes an empty GET_CONFIG reply (the error signal) as a null body', () => {
    expect(decode('frontend', hex('18000000 05000000 00000000'))).toMatchObject({
      kind: 'reply',
      payload: null,
      ack: false,
    });
  });

  it('encodes a reply body and an explicit ack', () => {
    const body = encode('frontend', { kind: 'reply', name: 'VHOST_USER_GET_QUEUE_NUM', payload: { value: 1n } });
    expect(toHex(body)).toBe('110000000500000008000000' + '0100000000000000');
    const ack = encode('frontend', { kind: 'reply', ack: true, name: 'VHOST_USER_GET_CONFIG', payload: { value: 1n } });
    expect(decode('frontend', ack)).toMatchObject({ ack: true, payload: { value: 1n } });
  });

  it('refuses fds with an ack', () => {
    expectError(
      () => decode('frontend', hex('0c000000 05000000 08000000 0000000000000000'), { fds: 1 }),
      'FD_UNEXPECTED',
    );
  });
});

describe('bad input gives typed errors', () => {
  it('truncated header', () => expectError(() => decode('frontend', hex('01000000 0100')), 'TRUNCATED'));
  it('truncated payload', () =>
    expectError(
      () => decode('frontend', hex('02000000 01000000 08000000 0000')),
      'TRUNCATED',
      'VHOST_USER_SET_FEATURES',
    ));
  it('trailing bytes', () => expectError(() => decode('frontend', hex('01000000 01000000 00000000 00')), 'BAD_SIZE'));
  it('unknown id', () => expectError(() => decode('frontend', hex('ff000000 01000000 00000000')), 'UNKNOWN_REQUEST'));
  it('unknown back-end id', () =>
    expectError(() => decode('backend', hex('0b000000 01000000 00000000')), 'UNKNOWN_REQUEST'));
  it('wrong version', () =>
    expectError(() => decode('frontend', hex('01000000 02000000 00000000')), 'BAD_VERSION', 'VHOST_USER_GET_FEATURES'));
  it('reserved flags', () =>
    expectError(() => decode('frontend', hex('01000000 11000000 00000000')), 'RESERVED_FLAGS'));
  it('lenient header mode accepts what libvhost-user accepts', () => {
    expect(decode('frontend', hex('01000000 11000000 00000000'), { strictHeader: false }).name).toBe(
      'VHOST_USER_GET_FEATURES',
    );
  });
  it('payload on a message that takes none', () =>
    expectError(
      () => decode('frontend', hex('03000000 01000000 08000000 0000000000000000')),
      'BAD_SIZE',
      'VHOST_USER_SET_OWNER',
    ));
  it('wrong fixed size', () =>
    expectError(
      () => decode('frontend', hex('08000000 01000000 04000000 00000000')),
      'BAD_SIZE',
      'VHOST_USER_SET_VRING_NUM',
    ));
  it('oversized payload', () => {
    const bytes = new Uint8Array(12 + 5000);
    bytes.set(hex('18000000 01000000 88130000'));
    expectError(() => decode('frontend', bytes), 'PAYLOAD_TOO_LARGE', 'VHOST_USER_GET_CONFIG');
  });
  it('nregions over 8', () => {
    const bytes = new Uint8Array(12 + 8 + 9 * 32);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, 5, true);
    view.setUint32(4, 1, true);
    view.setUint32(8, 8 + 9 * 32, true);
    view.setUint32(12, 9, true);
    const e = expectError(() => decode('frontend', bytes), 'COUNT_TOO_LARGE', 'VHOST_USER_SET_MEM_TABLE');
    expect(e.offset).toBe(12);
    // The prefix appears once, though the payload error is re-thrown with the message name.
    expect(e.message).toBe('VHOST_USER_SET_MEM_TABLE at byte 12: MemoryTable.nregions is 9, at most 8 allowed');
  });
  it('nregions that disagrees with the size', () =>
    expectError(() => decode('frontend', hex('05000000 01000000 08000000 01000000 00000000')), 'BAD_SIZE'));
  it('config size over 256', () => {
    const bytes = new Uint8Array(12 + 12 + 300);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, 25, true);
    view.setUint32(4, 1, true);
    view.setUint32(8, 312, true);
    view.setUint32(16, 300, true);
    expectError(() => decode('frontend', bytes), 'COUNT_TOO_LARGE', 'VHOST_USER_SET_CONFIG');
  });
  it('fds where none are allowed', () =>
    expectError(
      () => decode('frontend', hex('01000000 01000000 00000000'), { fds: 1 }),
      'FD_UNEXPECTED',
      'VHOST_USER_GET_FEATURES',
    ));
  it('missing fd', () =>
    expectError(
      () => decode('frontend', hex('0c000000 01000000 08000000 0000000000000000'), { fds: 0 }),
      'FD_MISSING',
      'VHOST_USER_SET_VRING_KICK',
    ));
  it('fd with the invalid-fd bit', () =>
    expectError(
      () => decode('frontend', hex('0c000000 01000000 08000000 0001000000000000'), { fds: 1 }),
      'FD_UNEXPECTED',
    ));
  it('one fd per region', () => {
    const region = { guestAddress: 0n, size: 4096n, userAddress: 0n, mmapOffset: 0n };
    const bytes = encode('frontend', { name: 'VHOST_USER_SET_MEM_TABLE', payload: { regions: [region, region] } });
    expectError(() => decode('frontend', bytes, { fds: 1 }), 'FD_COUNT');
  });
  it('REM_MEM_REG tolerates one fd, not two', () => {
    const bytes = encode('frontend', {
      name: 'VHOST_USER_REM_MEM_REG',
      payload: { region: { guestAddress: 0n, size: 4096n, userAddress: 0n, mmapOffset: 0n } },
    });
    expect(decode('frontend', bytes, { fds: 1 }).name).toBe('VHOST_USER_REM_MEM_REG');
    expectError(() => decode('frontend', bytes, { fds: 2 }), 'FD_COUNT');
  });
  it('SET_LOG_BASE takes its fd only with LOG_SHMFD', () => {
    const bytes = encode('frontend', { name: 'VHOST_USER_SET_LOG_BASE', payload: { mmapSize: 4096n, mmapOffset: 0n } });
    expect(() =>
      decode('frontend', bytes, {
        fds: 1,
        protocolFeatures: featureMask(ProtocolFeature.VHOST_USER_PROTOCOL_F_LOG_SHMFD),
      }),
    ).not.toThrow();
    expectError(() => decode('frontend', bytes, { fds: 1, protocolFeatures: 0n }), 'FD_UNEXPECTED');
  });
  it('encode refuses out-of-range values', () => {
    expectError(
      () => encode('frontend', { name: 'VHOST_USER_SET_VRING_NUM', payload: { index: -1, num: 256 } }),
      'INVALID_VALUE',
      'VHOST_USER_SET_VRING_NUM',
    );
    expectError(
      () => encode('frontend', { name: 'VHOST_USER_SET_FEATURES', payload: { value: 1n << 64n } }, { validate: false }),
      'INVALID_VALUE',
    );
  });
  it('encode refuses too many regions', () => {
    const region = { guestAddress: 0n, size: 1n, userAddress: 0n, mmapOffset: 0n };
    expectError(
      () =>
        encode(
          'frontend',
          { name: 'VHOST_USER_SET_MEM_TABLE', payload: { regions: Array(9).fill(region) } },
          { validate: false },
        ),
      'COUNT_TOO_LARGE',
    );
  });
  it('header constants come from the spec', () => {
    expect(HEADER).toMatchObject({ size: 12, version: 1, replyFlag: 4, needReplyFlag: 8 });
  });
});

describe('typed encoders and encodeInto', () => {
  it('encodeRequest, encodeReply and encodeAck write what encode writes', () => {
    const state = { index: 1, num: 256 };
    expect(encodeRequest('frontend', 'VHOST_USER_SET_VRING_NUM', state, { needReply: true })).toEqual(
      encode('frontend', { name: 'VHOST_USER_SET_VRING_NUM', payload: state, needReply: true }),
    );
    expect(encodeReply('frontend', 'VHOST_USER_GET_QUEUE_NUM', { value: 1n })).toEqual(
      encode('frontend', { kind: 'reply', name: 'VHOST_USER_GET_QUEUE_NUM', payload: { value: 1n } }),
    );
    expect(decode('frontend', encodeAck('frontend', 'VHOST_USER_SET_MEM_TABLE', 3n))).toMatchObject({
      ack: true,
      empty: false,
      payload: { value: 3n },
    });
    expect(toHex(encodeRequest('frontend', 'VHOST_USER_SET_OWNER', null))).toBe('030000000100000000000000');
  });

  it('a reply narrows on ack and empty', () => {
    const reply = decode('frontend', encodeReply('frontend', 'VHOST_USER_GET_VRING_BASE', { index: 0, num: 7 }));
    if (reply.kind !== 'reply' || reply.name !== 'VHOST_USER_GET_VRING_BASE' || reply.ack || reply.empty)
      throw new Error('expected the body of a GET_VRING_BASE reply');
    // No cast: the always-present body is typed VringBase, not nullable.
    expect(reply.payload.num).toBe(7);
    const empty = decode('frontend', encodeReply('frontend', 'VHOST_USER_GET_CONFIG', null));
    expect(empty).toMatchObject({ ack: false, empty: true, payload: null });
  });

  it('encodeInto writes at an offset and returns the length', () => {
    const target = new Uint8Array(64).fill(0xee);
    const n = encodeInto('frontend', { name: 'VHOST_USER_VRING_KICK', payload: { index: 1, num: 0 } }, target, 4, {
      validate: false,
    });
    expect(n).toBe(20);
    expect(target[3]).toBe(0xee);
    expect(target.subarray(4, 24)).toEqual(
      encode('frontend', { name: 'VHOST_USER_VRING_KICK', payload: { index: 1, num: 0 } }),
    );
    expect(target[24]).toBe(0xee);
  });

  it('encodeInto refuses a buffer too small before writing', () => {
    const target = new Uint8Array(19).fill(0xee);
    expectError(
      () => encodeInto('frontend', { name: 'VHOST_USER_SET_VRING_NUM', payload: { index: 0, num: 1 } }, target),
      'BUFFER_TOO_SMALL',
      'VHOST_USER_SET_VRING_NUM',
    );
    expect(target.every((b) => b === 0xee)).toBe(true);
  });

  it('without validation, out-of-range values and wrong shapes are still typed errors', () => {
    const target = new Uint8Array(64);
    const noValidate = { validate: false } as const;
    const e = expectError(
      () =>
        encodeInto(
          'frontend',
          { name: 'VHOST_USER_SET_VRING_NUM', payload: { index: -1, num: 1 } },
          target,
          0,
          noValidate,
        ),
      'INVALID_VALUE',
      'VHOST_USER_SET_VRING_NUM',
    );
    expect(e.message.match(/VHOST_USER_SET_VRING_NUM/g)).toHaveLength(1);
    expectError(
      () => encodeInto('frontend', { name: 'VHOST_USER_SET_MEM_TABLE', payload: {} as never }, target, 0, noValidate),
      'INVALID_VALUE',
      'VHOST_USER_SET_MEM_TABLE',
    );
  });
});
