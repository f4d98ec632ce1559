/**
 * encode() and decode() of whole messages on either channel, driven by the generated message
 * tables: header, payload by id, request vs reply by the reply flag, acks, and fd rules.
 */
import { HEADER, PROTOCOL_FEATURE_NAMES } from './generated/protocol.js';
import { backendMessages, frontendMessages, type BackendReplyBodies, type BackendMessage, type FrontendReplyBodies, type FrontendMessage } from './generated/messages.js';
import { U64Codec, type U64 } from './generated/payloads.js';
import { checkHeaderFlags, headerFlags, isReply, needsReply, readHeader, writeHeader, type MessageHeader } from './header.js';
import { checkFds, type FdCheckContext } from './fds.js';
import { hasFeature } from './features.js';
import { viewOf, type ByteOrder } from './runtime/bytes.js';
import { VhostUserError } from './runtime/errors.js';
import type { MessageInfo, PayloadCodec } from './runtime/types.js';

export type Channel = 'frontend' | 'backend';

export type RequestOf<C extends Channel> = C extends 'frontend' ? FrontendMessage : BackendMessage;
type Bodies<C extends Channel> = C extends 'frontend' ? FrontendReplyBodies : BackendReplyBodies;
export type RequestName<C extends Channel> = RequestOf<C>['name'];

/** A reply to request `K`: its body, or an ack. */
export type ReplyOf<C extends Channel> = { [K in keyof Bodies<C>]: { name: K; payload: Bodies<C>[K] } }[keyof Bodies<C>];

export interface CodecOptions {
  /** Byte order of the peer; the spec says native, every deployment is little-endian. */
  byteOrder?: ByteOrder;
  /** Negotiated protocol features: select layout extensions (Xen regions) and fd rules. */
  protocolFeatures?: bigint;
  /** Largest payload accepted by decode and the framer (bytes). */
  maxPayloadSize?: number;
  /** Refuse a wrong version or reserved flag bits (default true). */
  strictHeader?: boolean;
  /** Validate values with the payload schemas before encoding (default true). */
  validate?: boolean;
}

/** Large enough for every fixed payload (the shared-memory config is 2056 bytes). */
export const DEFAULT_MAX_PAYLOAD_SIZE = 4096;

const XEN_MMAP_BIT = Object.entries(PROTOCOL_FEATURE_NAMES).find(([, n]) => n === 'VHOST_USER_PROTOCOL_F_XEN_MMAP')?.[0];

function usesExtension(options: CodecOptions): boolean {
  return XEN_MMAP_BIT !== undefined && options.protocolFeatures !== undefined && hasFeature(options.protocolFeatures, Number(XEN_MMAP_BIT));
}

const tables: Record<Channel, { byId: Map<number, MessageInfo>; byName: Map<string, MessageInfo> }> = {
  frontend: { byId: new Map(frontendMessages.map((m) => [m.id, m])), byName: new Map(frontendMessages.map((m) => [m.name, m])) },
  backend: { byId: new Map(backendMessages.map((m) => [m.id, m])), byName: new Map(backendMessages.map((m) => [m.name, m])) },
};

export function messageInfo(channel: Channel, idOrName: number | string): MessageInfo | undefined {
  return typeof idOrName === 'number' ? tables[channel].byId.get(idOrName) : tables[channel].byName.get(idOrName);
}

export interface DecodedBase<C extends Channel> {
  channel: C;
  id: number;
  flags: number;
  /** Bytes of payload (the header's size field). */
  size: number;
  info: MessageInfo;
}

export type DecodedRequest<C extends Channel> = DecodedBase<C> & RequestOf<C> & { kind: 'request'; needReply: boolean };
export type DecodedReply<C extends Channel> = DecodedBase<C> & ReplyOf<C> & {
  kind: 'reply';
  /** The body is a REPLY_ACK status (U64) rather than the request's reply payload. */
  ack: boolean;
};
export type DecodedMessage<C extends Channel> = DecodedRequest<C> | DecodedReply<C>;

function decodePayload(codec: PayloadCodec<unknown>, view: DataView, size: number, le: boolean, ext: boolean, info: MessageInfo): unknown {
  try {
    return codec.decode(view, HEADER.size, size, le, ext);
  } catch (error) {
    if (error instanceof VhostUserError) {
      throw new VhostUserError(error.code, error.message, { messageName: info.name, offset: error.offset, cause: error });
    }
    throw error;
  }
}

/**
 * A reply body: empty (size 0, which some replies use to report an error), the request's reply
 * payload, or an 8-byte REPLY_ACK status. A variable payload is never 8 bytes long in practice,
 * so 8 bytes there is read as an ack.
 */
function decodeReplyBody(info: MessageInfo, view: DataView, size: number, le: boolean, ext: boolean): { payload: unknown; ack: boolean } {
  if (size === 0) return { payload: null, ack: false };
  const declared = info.reply.payload;
  const ackSized = size === U64Codec.size;
  if (declared && !(ackSized && declared.size !== U64Codec.size)) {
    return { payload: decodePayload(declared, view, size, le, ext, info), ack: false };
  }
  if (ackSized) return { payload: decodePayload(U64Codec as PayloadCodec<unknown>, view, size, le, ext, info), ack: true };
  throw new VhostUserError('BAD_SIZE', `a reply of ${size} bytes, but ${info.name} is answered with ${declared ? `a ${declared.name} or ` : ''}an 8-byte ack`, { messageName: info.name, offset: HEADER.sizeOffset });
}

/**
 * Decodes one whole message (header and payload, nothing more). The reply flag selects request
 * or reply; ids are looked up on `channel`. With `fds`, the fd count is checked against the
 * message's fd rule. Throws VhostUserError for anything malformed.
 */
export function decode<C extends Channel>(channel: C, bytes: Uint8Array, options: CodecOptions & FdCheckContext & { fds?: number } = {}): DecodedMessage<C> {
  const le = (options.byteOrder ?? 'little') === 'little';
  if (bytes.length < HEADER.size) throw new VhostUserError('TRUNCATED', `a message needs a ${HEADER.size}-byte header, got ${bytes.length} bytes`, { offset: 0 });
  const view = viewOf(bytes);
  const header = readHeader(view, 0, le);
  const info = tables[channel].byId.get(header.request);
  if (!info) throw new VhostUserError('UNKNOWN_REQUEST', `id ${header.request} is not a ${channel === 'frontend' ? 'front-end' : 'back-end'} request`, { offset: HEADER.requestOffset });
  if (options.strictHeader ?? true) checkHeaderFlags(header.flags, info.name);
  const max = options.maxPayloadSize ?? DEFAULT_MAX_PAYLOAD_SIZE;
  if (header.size > max) throw new VhostUserError('PAYLOAD_TOO_LARGE', `payload of ${header.size} bytes exceeds the limit of ${max}`, { messageName: info.name, offset: HEADER.sizeOffset });
  if (bytes.length !== HEADER.size + header.size) {
    const code = bytes.length < HEADER.size + header.size ? 'TRUNCATED' : 'BAD_SIZE';
    throw new VhostUserError(code, `header says ${header.size} payload bytes, ${bytes.length - HEADER.size} present`, { messageName: info.name, offset: HEADER.size });
  }
  const ext = usesExtension(options);
  const base = { channel, id: header.request, flags: header.flags, size: header.size, info, name: info.name };

  if (isReply(header.flags)) {
    const { payload, ack } = decodeReplyBody(info, view, header.size, le, ext);
    if (options.fds !== undefined) {
      // An ack never carries fds, whatever the reply rule of the request.
      if (ack && options.fds > 0) throw new VhostUserError('FD_UNEXPECTED', `${options.fds} fd(s) with an ack`, { messageName: info.name });
      if (!ack) checkFds(info, 'reply', payload, options.fds, options);
    }
    return { ...base, kind: 'reply', payload, ack } as DecodedReply<C>;
  }
  let payload: unknown = null;
  if (info.request) payload = decodePayload(info.request, view, header.size, le, ext, info);
  else if (header.size !== 0) throw new VhostUserError('BAD_SIZE', `${info.name} has no payload, but the header says ${header.size} bytes`, { messageName: info.name, offset: HEADER.sizeOffset });
  if (options.fds !== undefined) checkFds(info, 'request', payload, options.fds, options);
  return { ...base, kind: 'request', payload, needReply: needsReply(header.flags) } as DecodedRequest<C>;
}

export type OutgoingMessage<C extends Channel> =
  | (RequestOf<C> & { kind?: 'request'; needReply?: boolean })
  | (ReplyOf<C> & { kind: 'reply'; ack?: false })
  | { kind: 'reply'; ack: true; name: RequestName<C>; payload: U64 };

function encodeWith(info: MessageInfo, codec: PayloadCodec<unknown> | null, payload: unknown, flags: number, options: CodecOptions): Uint8Array {
  const le = (options.byteOrder ?? 'little') === 'little';
  const ext = usesExtension(options);
  if (codec && (options.validate ?? true)) {
    const result = codec.schema.safeParse(payload);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new VhostUserError('INVALID_VALUE', `${codec.name}${issue?.path.length ? `.${issue.path.join('.')}` : ''}: ${issue?.message ?? 'invalid'}`, { messageName: info.name, cause: result.error });
    }
  }
  if (!codec && payload !== null && payload !== undefined) throw new VhostUserError('INVALID_VALUE', `${info.name} carries no payload`, { messageName: info.name });
  const size = codec ? codec.sizeOf(payload, ext) : 0;
  const bytes = new Uint8Array(HEADER.size + size);
  const view = viewOf(bytes);
  const header: MessageHeader = { request: info.id, flags, size };
  writeHeader(view, 0, header, le);
  if (codec) {
    try {
      codec.encode(view, HEADER.size, payload, le, ext);
    } catch (error) {
      if (error instanceof VhostUserError) throw new VhostUserError(error.code, error.message, { messageName: info.name, cause: error });
      throw error;
    }
  }
  return bytes;
}

/**
 * Encodes a request (`{ name, payload, needReply? }`) or a reply (`{ kind: 'reply', name,
 * payload }`, where an ack's payload is a U64) on `channel`.
 */
export function encode<C extends Channel>(channel: C, message: OutgoingMessage<C>, options: CodecOptions = {}): Uint8Array {
  const info = tables[channel].byName.get(message.name as string);
  if (!info) throw new VhostUserError('UNKNOWN_REQUEST', `${String(message.name)} is not a ${channel} request`);
  if (message.kind === 'reply') {
    const payload = message.payload as unknown;
    const ack = message.ack === true || info.reply.kind === 'ack';
    const codec = payload === null ? null : ack ? (U64Codec as PayloadCodec<unknown>) : info.reply.payload;
    if (payload !== null && !codec) throw new VhostUserError('INVALID_VALUE', `${info.name} is answered with an empty body or an ack; pass ack: true`, { messageName: info.name });
    return encodeWith(info, codec, payload, headerFlags({ reply: true }), options);
  }
  const request = message as RequestOf<C> & { needReply?: boolean };
  return encodeWith(info, info.request, request.payload, headerFlags({ needReply: request.needReply ?? false }), options);
}
