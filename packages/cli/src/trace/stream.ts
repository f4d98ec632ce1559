/**
 * The tracer's forwarding: bytes go to the other side as they arrive (the 12-byte header as soon
 * as it is whole, then the payload chunk by chunk), with the fds they came with, so what the other side reads does
 * not depend on the message's size or on whether it decodes. A copy of each message is kept for
 * display, up to `keepLimit` payload bytes; a larger one is shown by its header alone.
 */
import { DEFAULT_MAX_PAYLOAD_SIZE, HEADER, readHeader } from '@vhost-user/codec';
import { closeFds, type UnixSocket } from '@vhost-user/transport';

/** One message seen on the stream, as forwarded. */
export interface SeenMessage {
  /** The 12 header bytes. */
  header: Uint8Array;
  /** The payload size the header announced. */
  size: number;
  /** Header and payload, when the payload is within keepLimit; undefined otherwise. */
  bytes: Uint8Array | undefined;
  /** How many fds travelled with the message. */
  fds: number;
}

export interface StreamOptions {
  /** Payload bytes kept for decoding (default: the codec's payload limit; larger ones do not decode). */
  keepLimit?: number;
  /**
   * A header arrived with these fds, before anything of it was forwarded: returns the fds to
   * forward instead (the tracer swaps the back-end channel's fd here). Our copies of both are
   * closed after the send unless returned in `keep`.
   */
  onHeader?: (header: Uint8Array, fds: number[]) => { forward: number[]; keep?: number[] };
  /** A whole message went through. */
  onMessage: (message: SeenMessage) => void;
  /** The source closed (or failed); the caller ends the session. */
  onClose: () => void;
}

/** Forwards everything `from` sends to `to` as it arrives; reports each message once it is complete. */
export function streamMessages(from: UnixSocket, to: UnixSocket, options: StreamOptions): void {
  const keepLimit = options.keepLimit ?? DEFAULT_MAX_PAYLOAD_SIZE;
  const header = new Uint8Array(HEADER.size);
  let headerFill = 0;
  let payloadLeft = 0;
  let size = 0;
  let kept: Uint8Array | undefined;
  let keptFill = 0;
  let fdCount = 0;
  /** fds that came with a header still in pieces: they go out with the whole header. */
  let headerFds: number[] = [];

  const forward = (bytes: Uint8Array, fds: number[], keep: readonly number[] = []) => {
    try {
      to.send(bytes, fds);
    } catch {
      // the other side is gone; its close ends the session
    } finally {
      closeFds(fds.filter((fd) => !keep.includes(fd)));
    }
  };
  const finish = () => {
    options.onMessage({ header: header.slice(), size, bytes: kept, fds: fdCount });
    headerFill = 0;
    kept = undefined;
    fdCount = 0;
  };

  from.nextReadSize = () => (headerFill < HEADER.size ? HEADER.size - headerFill : Math.min(payloadLeft, 1 << 16));
  from.start({
    onData(chunk, fds) {
      let pending = fds;
      let pos = 0;
      while (pos < chunk.length) {
        if (headerFill < HEADER.size) {
          const n = Math.min(HEADER.size - headerFill, chunk.length - pos);
          header.set(chunk.subarray(pos, pos + n), headerFill);
          headerFill += n;
          pos += n;
          fdCount += pending.length;
          headerFds = headerFds.concat(pending);
          pending = [];
          // A header in pieces waits for the rest (12 bytes at most), so it goes out whole.
          if (headerFill < HEADER.size) continue;
          size = readHeader(new DataView(header.buffer), 0, true).size;
          payloadLeft = size;
          kept = size <= keepLimit ? new Uint8Array(HEADER.size + size) : undefined;
          kept?.set(header);
          keptFill = HEADER.size;
          const withHeader = headerFds;
          headerFds = [];
          const swap = options.onHeader?.(header, withHeader) ?? { forward: withHeader };
          forward(header.slice(), swap.forward, swap.keep);
          if (swap.forward !== withHeader) closeFds(withHeader.filter((fd) => !(swap.keep ?? []).includes(fd)));
          if (payloadLeft === 0) finish();
        } else {
          const n = Math.min(payloadLeft, chunk.length - pos);
          const part = chunk.subarray(pos, pos + n);
          fdCount += pending.length;
          forward(part, pending);
          pending = [];
          kept?.set(part, keptFill);
          keptFill += n;
          payloadLeft -= n;
          pos += n;
          if (payloadLeft === 0) finish();
        }
      }
      closeFds(pending); // none left: every chunk has bytes
    },
    onClose() {
      closeFds(headerFds.splice(0)); // a header cut short: its fds never go out
      options.onClose();
    },
  });
}
