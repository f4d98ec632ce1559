/** The 12-byte message header: reading, writing and checking it. Layout from spec/header.yaml. */
import { HEADER } from './generated/protocol.js';
import { VhostUserError } from './runtime/errors.js';

export interface MessageHeader {
  /** Message id (meaning depends on the channel). */
  request: number;
  /** Version and flag bits. */
  flags: number;
  /** Payload bytes after the header. */
  size: number;
}

export const HEADER_SIZE = HEADER.size;

export function readHeader(view: DataView, offset: number, littleEndian: boolean): MessageHeader {
  return {
    request: view.getUint32(offset + HEADER.requestOffset, littleEndian),
    flags: view.getUint32(offset + HEADER.flagsOffset, littleEndian),
    size: view.getUint32(offset + HEADER.sizeOffset, littleEndian),
  };
}

export function writeHeader(view: DataView, offset: number, header: MessageHeader, littleEndian: boolean): void {
  view.setUint32(offset + HEADER.requestOffset, header.request, littleEndian);
  view.setUint32(offset + HEADER.flagsOffset, header.flags, littleEndian);
  view.setUint32(offset + HEADER.sizeOffset, header.size, littleEndian);
}

/** Flags word for an outgoing message: version 1 plus the reply / need_reply bits. */
export function headerFlags(options: { reply?: boolean; needReply?: boolean }): number {
  return (
    (HEADER.version | (options.reply ? HEADER.replyFlag : 0) | (options.needReply ? HEADER.needReplyFlag : 0)) >>> 0
  );
}

export function isReply(flags: number): boolean {
  return (flags & HEADER.replyFlag) !== 0;
}

export function needsReply(flags: number): boolean {
  return (flags & HEADER.needReplyFlag) !== 0;
}

/** Throws BAD_VERSION or RESERVED_FLAGS for a header a strict receiver must refuse. */
export function checkHeaderFlags(flags: number, messageName?: string): void {
  if ((flags & HEADER.versionMask) !== HEADER.version) {
    throw new VhostUserError(
      'BAD_VERSION',
      `version ${flags & HEADER.versionMask} in the header, expected ${HEADER.version}`,
      { messageName, offset: HEADER.flagsOffset },
    );
  }
  if ((flags & HEADER.reservedMask) !== 0) {
    throw new VhostUserError(
      'RESERVED_FLAGS',
      `reserved header flag bits 0x${((flags & HEADER.reservedMask) >>> 0).toString(16)} are set`,
      { messageName, offset: HEADER.flagsOffset },
    );
  }
}
