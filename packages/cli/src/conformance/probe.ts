/**
 * A raw vhost-user front-end for the conformance suite: it sends exactly the bytes and fds a case
 * asks for (including malformed ones) and reports what comes back, a close, or silence. Unlike
 * the transport's Connection it enforces nothing, so the peer's behaviour is what is observed.
 */
import {
  MessageFramer,
  decode,
  encode,
  type DecodedReply,
  type OutgoingMessage,
  type RequestOf,
} from '@vhost-user/codec';
import { UnixSocket, closeFds, isErrno } from '@vhost-user/transport';

export type Received =
  | {
      kind: 'message';
      bytes: Uint8Array;
      fds: number[];
      reply: DecodedReply<'frontend'> | undefined;
      error: Error | undefined;
    }
  | { kind: 'closed' }
  | { kind: 'timeout' };

export class Probe {
  private readonly framer = new MessageFramer({ maxPayloadSize: 1 << 20 });
  private readonly inbox: Received[] = [];
  private waiter: ((r: Received) => void) | undefined;
  private closed = false;
  /** Negotiated protocol features, for encoding and fd rules. */
  protocolFeatures = 0n;

  private constructor(private readonly socket: UnixSocket) {
    socket.nextReadSize = () => Math.min(this.framer.bytesToBoundary, 1 << 16);
    socket.start({ onData: (chunk, fds) => this.onData(chunk, fds), onClose: () => this.onClose() });
  }

  /** Connects, retrying while the peer is not listening yet. */
  static async connect(path: string, timeoutMs = 5000): Promise<Probe> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return new Probe(UnixSocket.connect(path));
      } catch (error) {
        if (
          !(isErrno(error, 'ECONNREFUSED') || isErrno(error, 'ENOENT') || isErrno(error, 'EAGAIN')) ||
          Date.now() > deadline
        )
          throw error;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private onData(chunk: Uint8Array, fds: number[]): void {
    for (const event of this.framer.push(chunk, fds)) {
      if (event.kind === 'error') {
        closeFds(event.fds);
        this.deliver({ kind: 'message', bytes: new Uint8Array(0), fds: [], reply: undefined, error: event.error });
        continue;
      }
      let reply: DecodedReply<'frontend'> | undefined;
      let error: Error | undefined;
      try {
        const m = decode('frontend', event.bytes, { fds: event.fds.length, protocolFeatures: this.protocolFeatures });
        if (m.kind === 'reply') reply = m as DecodedReply<'frontend'>;
        else error = new Error(`a request (${m.name}) arrived on the main socket`);
      } catch (e) {
        error = e as Error;
      }
      this.deliver({ kind: 'message', bytes: event.bytes, fds: event.fds, reply, error });
    }
  }

  private onClose(): void {
    this.closed = true;
    this.deliver({ kind: 'closed' });
  }

  private deliver(r: Received): void {
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w(r);
    } else this.inbox.push(r);
  }

  /** The next thing the peer did: a message, the close, or nothing within `timeoutMs`. */
  next(timeoutMs = 2000): Promise<Received> {
    const queued = this.inbox.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closed) return Promise.resolve({ kind: 'closed' });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve({ kind: 'timeout' });
      }, timeoutMs);
      this.waiter = (r) => {
        clearTimeout(timer);
        if (r.kind === 'message') closeFds(r.fds);
        resolve(r);
      };
    });
  }

  sendRaw(bytes: Uint8Array, fds: readonly number[] = []): void {
    this.socket.send(bytes, fds);
  }

  /** Encodes and sends a request; the caller keeps its fds. */
  send(message: RequestOf<'frontend'>, options: { needReply?: boolean; fds?: readonly number[] } = {}): void {
    const bytes = encode(
      'frontend',
      { ...message, needReply: options.needReply ?? false } as OutgoingMessage<'frontend'>,
      { protocolFeatures: this.protocolFeatures },
    );
    this.socket.send(bytes, options.fds ?? []);
  }

  close(): void {
    if (!this.closed) this.socket.close();
    for (const r of this.inbox.splice(0)) if (r.kind === 'message') closeFds(r.fds);
  }
}
