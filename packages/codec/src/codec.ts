/**
 * encode() and decode() of whole messages on either channel, driven by the generated message
 * tables: header, payload by id, request vs reply by the reply flag, acks, and fd rules.
 */
import { HEADER, PROTOCOL_FEATURE_NAMES } from './generated/protocol.js';
import {
  backendMessages,
  decodeBackendReplyPayload,
  decodeBackendRequestPayload,
  decodeFrontendReplyPayload,
  decodeFrontendRequestPayload,
  encodeBackendReplyPayload,
  encodeBackendRequestPayload,
  encodeFrontendReplyPayload,
  encodeFrontendRequestPayload,
  frontendMessages,
  sizeOfBackendReplyPayload,
  sizeOfBackendRequestPayload,
  sizeOfFrontendReplyPayload,
  sizeOfFrontendRequestPayload,
  type BackendMessage,
  type BackendReplyBodies,
  type FrontendMessage,
  type FrontendReplyBodies,
} from './generated/messages.js';
import { U64Codec, U64_SIZE, decodeU64, encodeU64, type U64 } from './generated/payloads.js';
import { checkHeaderFlags, headerFlags, isReply } from './header.js';
import { checkFds, type FdCheckContext } from './fds.js';
import { hasFeature } from './features.js';
import { viewOf, type ByteOrder } from './runtime/bytes.js';
import { VhostUserError } from './runtime/errors.js';
import type { MessageInfo, PayloadCodec } from './runtime/types.js';

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

const XEN_MMAP_BIT = Object.entries(PROTOCOL_FEATURE_NAMES).find(
  ([, n]) => n === 'VHOST_USER_PROTOCOL_F_XEN_MMAP',
)?.[0];

function usesExtension(options: CodecOptions): boolean {
  return (
    XEN_MMAP_BIT !== undefined &&
    options.protocolFeatures !== undefined &&
    hasFeature(options.protocolFeatures, Number(XEN_MMAP_BIT))
  );
}

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

/** Re-throws a payload error with the message's name (payload decoders do not know it); the
 *  new message is built from the bare reason, so its "at byte N" prefix appears once. */
function named(error: unknown, info: MessageInfo): never {
  if (error instanceof VhostUserError && error.messageName === undefined) {
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
  const ext = options.protocolFeatures !== undefined && usesExtension(options);

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

/**
 * A message for `encode` / `encodeInto`: a request, a reply with the request's declared body
 * (null: an empty body), or an ack (`ack: true`, a U64 status). The typed `encodeRequest`,
 * `encodeReply` and `encodeAck` take the same parts one by one, so a wrong payload is reported
 * against the one payload type that name expects.
 */
export type OutgoingMessage<C extends Channel> =
  | (RequestOf<C> & { kind?: 'request'; needReply?: boolean })
  | {
      [K in RequestName<C>]: { kind: 'reply'; ack?: false; name: K; payload: ReplyPayload<C, K> | null };
    }[RequestName<C>]
  | { kind: 'reply'; ack: true; name: RequestName<C>; payload: U64 };

/** Options of the typed encoders; `needReply` sets the header's need_reply flag on a request. */
export type EncodeOptions = CodecOptions & { needReply?: boolean };

// What a message carries after its header.
const REQUEST_BODY = 1;
const REPLY_BODY = 2;
const ACK_BODY = 3;
const NO_BODY = 0;

const REQUEST_FLAGS = headerFlags({});
const NEED_REPLY_FLAGS = headerFlags({ needReply: true });
const REPLY_FLAGS = headerFlags({ reply: true });

/**
 * What encoding reads of a message, in one object shape for every message: the generated
 * entries differ in optional fields (fd predicates, feature bits), which would make these
 * loads megamorphic on a mixed stream.
 */
interface EncodeEntry {
  readonly id: number;
  readonly name: string;
  readonly request: PayloadCodec<unknown> | null;
  /** The declared reply body. */
  readonly reply: PayloadCodec<unknown> | null;
  /** Answered by acks only. */
  readonly ackOnly: boolean;
  /** Fixed payload sizes without the layout extension; -1 when variable or absent. */
  readonly requestSize: number;
  readonly replySize: number;
}

function encodeEntries(messages: readonly MessageInfo[]): Record<string, EncodeEntry | undefined> {
  // Prototype-less: no inherited name (toString) can match a message name.
  const byName = Object.create(null) as Record<string, EncodeEntry | undefined>;
  for (const m of messages)
    byName[m.name] = {
      id: m.id,
      name: m.name,
      request: m.request,
      reply: m.reply.payload,
      ackOnly: m.reply.kind === 'ack',
      requestSize: m.request?.size ?? -1,
      replySize: m.reply.payload?.size ?? -1,
    };
  return byName;
}

const frontendEncoding = encodeEntries(frontendMessages);
const backendEncoding = encodeEntries(backendMessages);

function entryByName(channel: Channel, name: string): EncodeEntry {
  const entry = (channel === 'frontend' ? frontendEncoding : backendEncoding)[name];
  if (!entry) throw new VhostUserError('UNKNOWN_REQUEST', `${String(name)} is not a ${channel} request`);
  return entry;
}

/** Which body an outgoing message carries, refusing one the message cannot carry. */
function bodyOf(info: EncodeEntry, kind: number, payload: unknown): number {
  const none = payload === null || payload === undefined;
  if (kind === REQUEST_BODY) {
    if (info.request) return REQUEST_BODY;
    if (!none) throw new VhostUserError('INVALID_VALUE', `${info.name} carries no payload`, { messageName: info.name });
    return NO_BODY;
  }
  if (none) return NO_BODY;
  if (kind === ACK_BODY || info.ackOnly) return ACK_BODY;
  if (info.reply) return REPLY_BODY;
  throw new VhostUserError('INVALID_VALUE', `${info.name} is answered with an empty body or an ack; pass ack: true`, {
    messageName: info.name,
  });
}

function codecOf(info: EncodeEntry, body: number): PayloadCodec<unknown> | null {
  if (body === REQUEST_BODY) return info.request;
  if (body === REPLY_BODY) return info.reply;
  return body === ACK_BODY ? (U64Codec as PayloadCodec<unknown>) : null;
}

function validate(codec: PayloadCodec<unknown>, payload: unknown, info: EncodeEntry): void {
  const result = codec.schema.safeParse(payload);
  if (result.success) return;
  const issue = result.error.issues[0];
  throw new VhostUserError(
    'INVALID_VALUE',
    `${codec.name}${issue?.path.length ? `.${issue.path.join('.')}` : ''}: ${issue?.message ?? 'invalid'}`,
    { messageName: info.name, cause: result.error },
  );
}

/** Re-throws an encoder error as a VhostUserError naming the message (a payload of the wrong
 *  shape surfaces as a TypeError from the straight-line encoders). */
function encodeError(error: unknown, info: EncodeEntry, body: number): never {
  if (error instanceof VhostUserError) {
    if (error.messageName !== undefined) throw error;
    throw new VhostUserError(error.code, error.reason, { messageName: info.name, offset: error.offset, cause: error });
  }
  if (error instanceof TypeError)
    throw new VhostUserError('INVALID_VALUE', `not a ${codecOf(info, body)?.name ?? 'payload'}: ${error.message}`, {
      messageName: info.name,
      cause: error,
    });
  throw error;
}

// A DataView of the last target, so encoding into the same buffer again creates no object.
let lastTarget: Uint8Array | undefined;
let lastView: DataView | undefined;
function viewFor(target: Uint8Array): DataView {
  if (target !== lastTarget || lastView === undefined) {
    lastView = viewOf(target);
    lastTarget = target;
  }
  return lastView;
}

/**
 * The one encoding path: sizes the message, then writes it into `target` at `offset` (returns
 * the bytes written) or, without a target, into a new array of exactly its size (returns it).
 */
function encodeParts(
  channel: Channel,
  name: string,
  kind: number,
  payload: unknown,
  needReply: boolean,
  target: Uint8Array | undefined,
  offset: number,
  options: CodecOptions,
): number | Uint8Array {
  const info = entryByName(channel, name);
  const body = bodyOf(info, kind, payload);
  const frontend = channel === 'frontend';
  const ext = options.protocolFeatures !== undefined && usesExtension(options);
  const le = options.byteOrder !== 'big';
  if (body !== NO_BODY && options.validate !== false)
    validate(codecOf(info, body) as PayloadCodec<unknown>, payload, info);
  let size = 0;
  let out = target;
  try {
    // Direct calls per channel and body, like decode: the dispatch stays inlinable.
    // A fixed-size payload without the layout extension needs no sizeOf call.
    const fixed = ext ? -1 : body === REQUEST_BODY ? info.requestSize : info.replySize;
    if (body === ACK_BODY) size = U64_SIZE;
    else if (body !== NO_BODY && fixed >= 0) size = fixed;
    else if (body === REQUEST_BODY)
      size = frontend
        ? sizeOfFrontendRequestPayload(info.id, payload, ext)
        : sizeOfBackendRequestPayload(info.id, payload, ext);
    else if (body === REPLY_BODY)
      size = frontend
        ? sizeOfFrontendReplyPayload(info.id, payload, ext)
        : sizeOfBackendReplyPayload(info.id, payload, ext);
    const total = HEADER.size + size;
    if (out === undefined) out = new Uint8Array(total);
    else if (!(offset >= 0) || offset + total > out.length)
      throw new VhostUserError(
        'BUFFER_TOO_SMALL',
        `the message takes ${total} bytes, the buffer has ${Math.max(0, out.length - offset)} from offset ${offset}`,
        { messageName: info.name },
      );
    const view = viewFor(out);
    const flags = kind === REQUEST_BODY ? (needReply ? NEED_REPLY_FLAGS : REQUEST_FLAGS) : REPLY_FLAGS;
    view.setUint32(offset + HEADER.requestOffset, info.id, le);
    view.setUint32(offset + HEADER.flagsOffset, flags, le);
    view.setUint32(offset + HEADER.sizeOffset, size, le);
    const at = offset + HEADER.size;
    if (body === REQUEST_BODY) {
      if (frontend) encodeFrontendRequestPayload(info.id, view, at, payload, le, ext);
      else encodeBackendRequestPayload(info.id, view, at, payload, le, ext);
    } else if (body === REPLY_BODY) {
      if (frontend) encodeFrontendReplyPayload(info.id, view, at, payload, le, ext);
      else encodeBackendReplyPayload(info.id, view, at, payload, le, ext);
    } else if (body === ACK_BODY) encodeU64(view, at, payload as U64, le);
    return target === undefined ? out : total;
  } catch (error) {
    encodeError(error, info, body);
  }
}

function partsOf(message: OutgoingMessage<Channel>): number {
  if (message.kind !== 'reply') return REQUEST_BODY;
  return message.ack === true ? ACK_BODY : REPLY_BODY;
}

/**
 * Encodes a request (`{ name, payload, needReply? }`), a reply (`{ kind: 'reply', name,
 * payload }`) or an ack (`{ kind: 'reply', ack: true, name, payload: U64 }`) on `channel`,
 * into a new array.
 */
export function encode<C extends Channel>(
  channel: C,
  message: OutgoingMessage<C>,
  options: CodecOptions = NO_OPTIONS,
): Uint8Array {
  const m = message as OutgoingMessage<Channel> & { needReply?: boolean };
  return encodeParts(channel, m.name, partsOf(m), m.payload, m.needReply === true, undefined, 0, options) as Uint8Array;
}

/**
 * Encodes like `encode`, into `target` at `offset`, and returns the bytes written. Allocates
 * nothing when `validate: false` (the encoders still range-check every value); the hot path for
 * a sender with its own buffer. Throws BUFFER_TOO_SMALL, before writing, when the message does
 * not fit; after another error the bytes from `offset` are unspecified.
 */
export function encodeInto<C extends Channel>(
  channel: C,
  message: OutgoingMessage<C>,
  target: Uint8Array,
  offset = 0,
  options: CodecOptions = NO_OPTIONS,
): number {
  const m = message as OutgoingMessage<Channel> & { needReply?: boolean };
  return encodeParts(channel, m.name, partsOf(m), m.payload, m.needReply === true, target, offset, options) as number;
}

/** Encodes request `name` with its payload (null for a request without one). */
export function encodeRequest<C extends Channel, K extends RequestName<C>>(
  channel: C,
  name: K,
  payload: RequestPayload<C, K>,
  options: EncodeOptions = NO_OPTIONS,
): Uint8Array {
  return encodeParts(
    channel,
    name,
    REQUEST_BODY,
    payload,
    options.needReply === true,
    undefined,
    0,
    options,
  ) as Uint8Array;
}

/** Encodes the reply to `name` with its declared body; null sends an empty body (how some
 *  back-ends report a failure). Acks go through `encodeAck`. */
export function encodeReply<C extends Channel, K extends RequestName<C>>(
  channel: C,
  name: K,
  payload: ReplyPayload<C, K> | null,
  options: CodecOptions = NO_OPTIONS,
): Uint8Array {
  return encodeParts(channel, name, REPLY_BODY, payload, false, undefined, 0, options) as Uint8Array;
}

/** Encodes a REPLY_ACK status for request `name` (0: success). */
export function encodeAck<C extends Channel>(
  channel: C,
  name: RequestName<C>,
  status: bigint,
  options: CodecOptions = NO_OPTIONS,
): Uint8Array {
  return encodeParts(channel, name, ACK_BODY, { value: status }, false, undefined, 0, options) as Uint8Array;
}
