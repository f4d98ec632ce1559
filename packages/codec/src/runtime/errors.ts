/**
 * The one error type of the codec. Every problem with bytes, sizes or fds becomes a
 * VhostUserError with a stable `code`, so a server can log it and answer instead of crashing.
 */

export type VhostUserErrorCode =
  /** Fewer bytes than the header or payload needs. */
  | 'TRUNCATED'
  /** The header's size field is larger than the configured maximum. */
  | 'PAYLOAD_TOO_LARGE'
  /** The request id is not defined on this channel. */
  | 'UNKNOWN_REQUEST'
  /** Header flag bits 0-1 are not version 1. */
  | 'BAD_VERSION'
  /** A reserved header flag bit is set. */
  | 'RESERVED_FLAGS'
  /** The payload size does not fit what the message carries. */
  | 'BAD_SIZE'
  /** A count field (regions, config bytes) exceeds its limit. */
  | 'COUNT_TOO_LARGE'
  /** File descriptors arrived with a message that takes none. */
  | 'FD_UNEXPECTED'
  /** A message that needs file descriptors arrived without them. */
  | 'FD_MISSING'
  /** The number of file descriptors does not match the message. */
  | 'FD_COUNT'
  /** File descriptors arrived in the middle of a message instead of with its first byte. */
  | 'FD_MISPLACED'
  /** A value given to the encoder is out of range or of the wrong shape. */
  | 'INVALID_VALUE'
  /** The caller's buffer cannot hold the encoded message (encodeInto). */
  | 'BUFFER_TOO_SMALL';

export interface VhostUserErrorDetails {
  /** Canonical name of the message, when known (`VHOST_USER_SET_MEM_TABLE`). */
  messageName?: string;
  /** Byte offset in the message (header included) where the problem is. */
  offset?: number;
  cause?: unknown;
}

/** Marks every VhostUserError, from whichever copy of this module made it: a second copy (the
 *  sources imported by path next to the built package) has its own class, so `instanceof`
 *  fails across copies while this registry-wide symbol does not. */
const BRAND: unique symbol = Symbol.for('@vhost-user/codec:VhostUserError');

export class VhostUserError extends Error {
  override readonly name = 'VhostUserError';
  readonly [BRAND] = true;
  readonly code: VhostUserErrorCode;
  readonly messageName: string | undefined;
  readonly offset: number | undefined;
  /** The message without its "NAME at byte N: " prefix, for re-throwing with more context. */
  readonly reason: string;

  constructor(code: VhostUserErrorCode, message: string, details: VhostUserErrorDetails = {}) {
    const where = [details.messageName, details.offset !== undefined ? `at byte ${details.offset}` : undefined]
      .filter(Boolean)
      .join(' ');
    super(where ? `${where}: ${message}` : message, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.code = code;
    this.messageName = details.messageName;
    this.offset = details.offset;
    this.reason = message;
  }
}

/** Whether `error` is a VhostUserError from any copy of the codec (use this, not `instanceof`). */
export function isVhostUserError(error: unknown): error is VhostUserError {
  return typeof error === 'object' && error !== null && (error as { [BRAND]?: unknown })[BRAND] === true;
}
