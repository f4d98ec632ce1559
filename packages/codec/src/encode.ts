/**
 * Encoding whole messages: `encodeInto` writes into the caller's buffer through the generated
 * straight-line dispatch by id (allocation-free without validation), `encode` into a new array,
 * and the typed `encodeRequest` / `encodeReply` / `encodeAck` take one payload type each.
 */
import { HEADER } from './generated/protocol.js';
import {
  backendMessages,
  encodeBackendReplyPayload,
  encodeBackendRequestPayload,
  encodeFrontendReplyPayload,
  encodeFrontendRequestPayload,
  frontendMessages,
  sizeOfBackendReplyPayload,
  sizeOfBackendRequestPayload,
  sizeOfFrontendReplyPayload,
  sizeOfFrontendRequestPayload,
} from './generated/messages.js';
import { U64Codec, U64_SIZE, encodeU64, type U64 } from './generated/payloads.js';
import type { Channel, CodecOptions, ReplyPayload, RequestName, RequestOf, RequestPayload } from './codec.js';
import { usesExtension } from './extension.js';
import { headerFlags } from './header.js';
import { viewOf } from './runtime/bytes.js';
import { VhostUserError, isVhostUserError } from './runtime/errors.js';
import type { MessageInfo, PayloadCodec } from './runtime/types.js';

const NO_OPTIONS: CodecOptions = Object.freeze({});

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
  if (isVhostUserError(error)) {
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
  const ext = options.protocolFeatures !== undefined && usesExtension(options.protocolFeatures);
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
