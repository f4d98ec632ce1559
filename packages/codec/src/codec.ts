/**
 * decode() of whole messages on either channel, driven by the generated message tables: header,
 * payload by id, request vs reply by the reply flag, acks, and fd rules; the message and reply
 * types encode.ts shares.
 */
import { HEADER } from './generated/protocol.js';
import {
  backendMessages,
  decodeBackendReplyPayload,
  decodeBackendRequestPayload,
  decodeFrontendReplyPayload,
  decodeFrontendRequestPayload,
  frontendMessages,
  type BackendMessage,
  type BackendReplyBodies,
  type FrontendMessage,
  type FrontendReplyBodies,
} from './generated/messages.js';
import { U64Codec, decodeU64, type U64 } from './generated/payloads.js';
import { checkHeaderFlags, isReply } from './header.js';
import { checkFds, type FdCheckContext } from './fds.js';
import { usesExtension } from './extension.js';
import { viewOf, type ByteOrder } from './runtime/bytes.js';
import { VhostUserError, isVhostUserError } from './runtime/errors.js';
import type { MessageInfo } from './runtime/types.js';

export type Channel = 'frontend' | 'backend';

export type RequestOf<C extends Channel> = C extends 'frontend' ? FrontendMessage : BackendMessage;
type Bodies<C extends Channel> = C extends 'frontend' ? FrontendReplyBodies : BackendReplyBodies;
export type RequestName<C extends Channel> = RequestOf<C>['name'];
/** The payload request `K` carries (null for none). */
export type RequestPayload<C extends Channel, K extends RequestName<C>> = Extract<RequestOf<C>, { name: K }>['payload'];
/** The declared body of the reply to request `K` (never: it declares none, acks only). */
export type ReplyPayload<C extends Channel, K extends RequestName<C>> = Bodies<C>[K & keyof Bodies<C>];

/**
 * A reply to request `K`, discriminated by `ack` and `empty`: its declared body (not nullable
 * when the request always answers with one), a REPLY_ACK status, or an empty body (size 0,
 * which some back-ends send to report a failure, e.g. to GET_CONFIG).
 */
export type ReplyTo<C extends Channel, K extends RequestName<C>> =
  | ([ReplyPayload<C, K>] extends [never] ? never : { name: K; ack: false; empty: false; payload: ReplyPayload<C, K> })
  | { name: K; ack: true; empty: false; payload: U64 }
  | { name: K; ack: false; empty: true; payload: null };

/** Any reply on channel `C`. */
export type ReplyOf<C extends Channel> = { [K in RequestName<C>]: ReplyTo<C, K> }[RequestName<C>];

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

/** Message tables indexed by id (a dense array: ids are small) and by name. */
function indexTable(messages: readonly MessageInfo[]): {
  byId: (MessageInfo | undefined)[];
  byName: Readonly<Record<string, MessageInfo | undefined>>;
} {
  const byId: (MessageInfo | undefined)[] = [];
  for (const m of messages) byId[m.id] = m;
  for (let i = 0; i < byId.length; i++) byId[i] ??= undefined; // no holes: keeps the array packed
  // A prototype-less object rather than a Map: V8 finds an internalized-name property faster
  // than it hashes a Map key, and no inherited name (toString) can match.
  const byName = Object.create(null) as Record<string, MessageInfo | undefined>;
  for (const m of messages) byName[m.name] = m;
  return { byId, byName };
}

const tables: Record<Channel, ReturnType<typeof indexTable>> = {
  frontend: indexTable(frontendMessages),
  backend: indexTable(backendMessages),
};

export function messageInfo(channel: Channel, idOrName: number | string): MessageInfo | undefined {
  return typeof idOrName === 'number' ? tables[channel].byId[idOrName] : tables[channel].byName[idOrName];
}

const NO_OPTIONS: CodecOptions & FdCheckContext & { fds?: number } = Object.freeze({});
const HEADER_CHECK_MASK = (HEADER.versionMask | HEADER.reservedMask) >>> 0;

export interface DecodedBase<C extends Channel> {
  channel: C;
  id: number;
  flags: number;
  /** Bytes of payload (the header's size field). */
  size: number;
}

export type DecodedRequest<C extends Channel> = DecodedBase<C> & RequestOf<C> & { kind: 'request'; needReply: boolean };
export type DecodedReply<C extends Channel> = DecodedBase<C> & ReplyOf<C> & { kind: 'reply' };
export type DecodedMessage<C extends Channel> = DecodedRequest<C> | DecodedReply<C>;
/**
 * The number a U64 payload carries (SET_FEATURES, SET_VRING_KICK, GET_QUEUE_NUM's reply, an
 * ack...), checked at run time for code that holds a message of any name; undefined for any
 * other payload.
 */
export function u64Value(payload: unknown): bigint | undefined {
  if (typeof payload !== 'object' || payload === null || !('value' in payload)) return undefined;
  const { value } = payload;
  return typeof value === 'bigint' ? value : undefined;
}

/** The decoded reply to request `K`: its body, an ack, or an empty body (narrow on `ack` / `empty`). */
export type DecodedReplyTo<C extends Channel, K extends RequestName<C>> = DecodedBase<C> &
  ReplyTo<C, K> & { kind: 'reply' };

/** Re-throws a payload error with the message's name (payload decoders do not know it); the
 *  new message is built from the bare reason, so its "at byte N" prefix appears once. */
function named(error: unknown, info: MessageInfo): never {
  if (isVhostUserError(error) && error.messageName === undefined) {
    throw new VhostUserError(error.code, error.reason, { messageName: info.name, offset: error.offset, cause: error });
  }
  throw error;
}

/**
 * Decodes one whole message (header and payload, nothing more). The reply flag selects request
 * or reply; ids are looked up on `channel`. With `fds`, the fd count is checked against the
 * message's fd rule. Throws VhostUserError for anything malformed.
 *
 * A reply body is empty (size 0, which some replies use to report an error), the request's
 * reply payload, or an 8-byte REPLY_ACK status. A variable payload is never 8 bytes long in
 * practice, so 8 bytes there is read as an ack.
 */
export function decode<C extends Channel>(
  channel: C,
  bytes: Uint8Array,
  options: CodecOptions & FdCheckContext & { fds?: number } = NO_OPTIONS,
): DecodedMessage<C> {
  const le = options.byteOrder !== 'big';
  if (bytes.length < HEADER.size)
    throw new VhostUserError('TRUNCATED', `a message needs a ${HEADER.size}-byte header, got ${bytes.length} bytes`, {
      offset: 0,
    });
  const view = viewOf(bytes);
  const id = view.getUint32(HEADER.requestOffset, le);
  const flags = view.getUint32(HEADER.flagsOffset, le);
  const size = view.getUint32(HEADER.sizeOffset, le);
  // Direct calls rather than lookups keyed by channel, so V8 can inline the dispatch.
  const frontend = channel === 'frontend';
  const info = (frontend ? tables.frontend : tables.backend).byId[id];
  if (!info)
    throw new VhostUserError('UNKNOWN_REQUEST', `id ${id} is not a ${frontend ? 'front-end' : 'back-end'} request`, {
      offset: HEADER.requestOffset,
    });
  if ((flags & HEADER_CHECK_MASK) >>> 0 !== HEADER.version && options.strictHeader !== false)
    checkHeaderFlags(flags, info.name);
  const max = options.maxPayloadSize ?? DEFAULT_MAX_PAYLOAD_SIZE;
  if (size > max)
    throw new VhostUserError('PAYLOAD_TOO_LARGE', `payload of ${size} bytes exceeds the limit of ${max}`, {
      messageName: info.name,
      offset: HEADER.sizeOffset,
    });
  if (bytes.length !== HEADER.size + size) {
    const code = bytes.length < HEADER.size + size ? 'TRUNCATED' : 'BAD_SIZE';
    throw new VhostUserError(code, `header says ${size} payload bytes, ${bytes.length - HEADER.size} present`, {
      messageName: info.name,
      offset: HEADER.size,
    });
  }
  const ext = options.protocolFeatures !== undefined && usesExtension(options.protocolFeatures);

  // Results are built as plain literals: object spread is slow on this hot path.
  if (isReply(flags)) {
    let payload: unknown = null;
    let ack = false;
    if (size !== 0) {
      const declared = info.reply.payload;
      try {
        if (declared && !(size === U64Codec.size && declared.size !== U64Codec.size))
          payload = frontend
            ? decodeFrontendReplyPayload(id, view, HEADER.size, size, le, ext)
            : decodeBackendReplyPayload(id, view, HEADER.size, size, le, ext);
        else if (size === U64Codec.size) {
          payload = decodeU64(view, HEADER.size, size, le);
          ack = true;
        } else {
          throw new VhostUserError(
            'BAD_SIZE',
            `a reply of ${size} bytes, but ${info.name} is answered with ${declared ? `a ${declared.name} or ` : ''}an 8-byte ack`,
            { messageName: info.name, offset: HEADER.sizeOffset },
          );
        }
      } catch (error) {
        named(error, info);
      }
    }
    if (options.fds !== undefined) {
      // An ack never carries fds, whatever the reply rule of the request.
      if (ack && options.fds > 0)
        throw new VhostUserError('FD_UNEXPECTED', `${options.fds} fd(s) with an ack`, { messageName: info.name });
      if (!ack) checkFds(info, 'reply', payload, options.fds, options);
    }
    // Empty: a body was due (a declared payload or an ack) but none came. A reply that never
    // has a payload (POSTCOPY_ADVISE) is not empty: size 0 is its body.
    const empty = size === 0 && !(info.reply.kind === 'always' && info.reply.payload === null);
    return { channel, kind: 'reply', id, name: info.name, flags, size, payload, ack, empty } as DecodedReply<C>;
  }
  let payload: unknown;
  try {
    payload = frontend
      ? decodeFrontendRequestPayload(id, view, HEADER.size, size, le, ext)
      : decodeBackendRequestPayload(id, view, HEADER.size, size, le, ext);
  } catch (error) {
    named(error, info);
  }
  if (options.fds !== undefined) checkFds(info, 'request', payload, options.fds, options);
  return {
    channel,
    kind: 'request',
    id,
    name: info.name,
    flags,
    size,
    payload,
    needReply: (flags & HEADER.needReplyFlag) !== 0,
  } as DecodedRequest<C>;
}
