/**
 * MessageFramer: turns a byte stream, read in arbitrary chunks, back into whole messages with
 * the file descriptors that came with them.
 *
 * The spec has the sender attach fds to the sendmsg() that carries a message's first byte, and
 * the kernel never merges ancillary data across that boundary, so fds always arrive with a chunk
 * that starts a message. Fds that arrive mid-message are reported (never dropped) so the caller
 * can close them. A payload over the size limit is skipped, not buffered, and reported; the
 * stream stays in sync because framing depends only on the header's size field.
 */
import { HEADER } from './generated/protocol.js';
import { readHeader, type MessageHeader } from './header.js';
import { viewOf, type ByteOrder } from './runtime/bytes.js';
import { VhostUserError } from './runtime/errors.js';
import { DEFAULT_MAX_PAYLOAD_SIZE } from './codec.js';

export interface FramedMessage {
  kind: 'message';
  /** The whole message, header included (a copy: the caller's chunks may be reused). */
  bytes: Uint8Array;
  header: MessageHeader;
  /** Fds that arrived with the message's first byte; the caller owns them. */
  fds: number[];
}

export interface FramingError {
  kind: 'error';
  error: VhostUserError;
  /** Fds the error concerns; the caller owns them and should close them. */
  fds: number[];
}

export type FramerEvent = FramedMessage | FramingError;

export interface FramerOptions {
  maxPayloadSize?: number;
  byteOrder?: ByteOrder;
}

export class MessageFramer {
  private readonly maxPayloadSize: number;
  private readonly littleEndian: boolean;
  /** Header bytes of the message being read. */
  private readonly header = new Uint8Array(HEADER.size);
  private headerFill = 0;
  /** Whole message being read, once its header is known. */
  private message: Uint8Array | undefined;
  private messageFill = 0;
  /** Payload bytes still to discard after an oversized header. */
  private skipRemaining = 0;
  private fds: number[] = [];
  private parsed: MessageHeader | undefined;

  constructor(options: FramerOptions = {}) {
    this.maxPayloadSize = options.maxPayloadSize ?? DEFAULT_MAX_PAYLOAD_SIZE;
    this.littleEndian = (options.byteOrder ?? 'little') === 'little';
  }

  /** Bytes received for a message that is not complete yet. */
  get pending(): number {
    return this.message ? this.messageFill : this.headerFill;
  }

  /**
   * The most bytes the next read should take so that it ends where the current header or
   * payload ends. A reader that never reads past that point receives each message's fds with
   * that message (the kernel hands fds to the read that takes the first byte they came with).
   */
  get bytesToBoundary(): number {
    if (this.skipRemaining > 0) return this.skipRemaining;
    if (this.message) return this.message.length - this.messageFill;
    return HEADER.size - this.headerFill;
  }

  private atBoundary(): boolean {
    return this.headerFill === 0 && this.message === undefined && this.skipRemaining === 0;
  }

  /** Feeds one chunk and the fds that arrived with it; returns the events it completes. */
  push(chunk: Uint8Array, fds: readonly number[] = []): FramerEvent[] {
    const events: FramerEvent[] = [];
    if (fds.length > 0) {
      if (this.atBoundary() && chunk.length > 0) this.fds = [...fds];
      else events.push(misplaced(fds, this.pending));
    }
    let pos = 0;
    while (pos < chunk.length) {
      if (this.skipRemaining > 0) {
        const n = Math.min(this.skipRemaining, chunk.length - pos);
        this.skipRemaining -= n;
        pos += n;
        continue;
      }
      if (!this.message) {
        // Fast path: a whole message in the rest of the chunk, at a boundary.
        if (this.headerFill === 0 && chunk.length - pos >= HEADER.size) {
          const header = readHeader(viewOf(chunk), pos, this.littleEndian);
          if (header.size <= this.maxPayloadSize && chunk.length - pos >= HEADER.size + header.size) {
            const end = pos + HEADER.size + header.size;
            events.push({ kind: 'message', bytes: chunk.slice(pos, end), header, fds: this.takeFds() });
            pos = end;
            continue;
          }
        }
        const n = Math.min(HEADER.size - this.headerFill, chunk.length - pos);
        this.header.set(chunk.subarray(pos, pos + n), this.headerFill);
        this.headerFill += n;
        pos += n;
        if (this.headerFill < HEADER.size) break;
        this.startPayload(events);
        continue;
      }
      const n = Math.min(this.message.length - this.messageFill, chunk.length - pos);
      this.message.set(chunk.subarray(pos, pos + n), this.messageFill);
      this.messageFill += n;
      pos += n;
      if (this.messageFill === this.message.length) this.finishMessage(events);
    }
    return events;
  }

  /** The peer closed the stream: a partial message is reported as truncated. */
  end(): FramerEvent[] {
    if (this.atBoundary()) return [];
    const got = this.pending;
    const error = new VhostUserError('TRUNCATED', `the stream ended inside a message after ${got} byte(s)`, {
      offset: got,
    });
    const event: FramingError = { kind: 'error', error, fds: this.takeFds() };
    this.headerFill = 0;
    this.message = undefined;
    this.messageFill = 0;
    this.skipRemaining = 0;
    return [event];
  }

  private startPayload(events: FramerEvent[]): void {
    const header = readHeader(viewOf(this.header), 0, this.littleEndian);
    this.headerFill = 0;
    if (header.size > this.maxPayloadSize) {
      const error = new VhostUserError(
        'PAYLOAD_TOO_LARGE',
        `message ${header.request} announces ${header.size} payload bytes, limit ${this.maxPayloadSize}; skipped`,
        { offset: HEADER.sizeOffset },
      );
      events.push({ kind: 'error', error, fds: this.takeFds() });
      this.skipRemaining = header.size;
      return;
    }
    this.parsed = header;
    this.message = new Uint8Array(HEADER.size + header.size);
    this.message.set(this.header, 0);
    this.messageFill = HEADER.size;
    if (header.size === 0) this.finishMessage(events);
  }

  private finishMessage(events: FramerEvent[]): void {
    const bytes = this.message as Uint8Array;
    events.push({ kind: 'message', bytes, header: this.parsed as MessageHeader, fds: this.takeFds() });
    this.message = undefined;
    this.messageFill = 0;
    this.parsed = undefined;
  }

  private takeFds(): number[] {
    const fds = this.fds;
    this.fds = [];
    return fds;
  }
}

function misplaced(fds: readonly number[], pending: number): FramingError {
  const error = new VhostUserError(
    'FD_MISPLACED',
    `${fds.length} fd(s) arrived ${pending > 0 ? `${pending} byte(s) into a message` : 'without data'} instead of with a message's first byte`,
  );
  return { kind: 'error', error, fds: [...fds] };
}
