/**
 * A vhost-user connection over one Unix stream socket, on one channel (the main socket is the
 * 'frontend' channel, the back-end channel is 'backend'). It frames and decodes messages with
 * the codec, matches replies to requests in order, applies the REPLY_ACK / need_reply rules of
 * the spec on both sides, times requests out, and owns every fd it receives until a handler
 * takes it.
 */
import {
  MessageFramer,
  ProtocolFeature,
  VHOST_MEMORY_BASELINE_NREGIONS,
  VhostUserError,
  decode,
  encode,
  hasFeature,
  isReply,
  messageInfo,
  type Channel,
  type DecodedReply,
  type DecodedReplyTo,
  type DecodedRequest,
  type MessageHeader,
  type OutgoingMessage,
  type RequestName,
  type RequestOf,
  type ReplyPayload,
} from '@vhost-user/codec';
import { ReceivedFds } from './fds.js';
import { ResourceLimitError } from './limits.js';
import { closeFds } from './native.js';
import { UnixSocket } from './socket.js';

export class ConnectionError extends Error {
  constructor(
    readonly code: 'TIMEOUT' | 'CLOSED' | 'PROTOCOL' | 'NACK' | 'NOT_NEGOTIATED' | 'EMPTY_REPLY',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConnectionError';
  }
}

/** What a request handler returns: the reply body for requests that always answer, nothing for
 *  the rest. Throwing makes a failure status (ack non-zero, or an empty reply body). */
/** A handler's answer that carries fds (GET_INFLIGHT_FD): they are sent, then closed here. */
export class ReplyWithFds {
  constructor(
    readonly body: unknown,
    readonly fds: readonly number[],
  ) {}
}

export type RequestHandler<C extends Channel> = (
  request: DecodedRequest<C>,
  fds: ReceivedFds,
) => unknown | Promise<unknown>;

export interface ConnectionOptions<C extends Channel> {
  channel: C;
  /** Handles requests that arrive on this socket (the answering side). */
  onRequest?: RequestHandler<C>;
  /** A message that could not be framed or decoded; its fds were already closed. */
  onProtocolError?: (error: Error) => void;
  /** The socket ended; pending requests were rejected. */
  onClose?: (error?: Error) => void;
  /** Milliseconds before a request without a reply fails (and the connection closes). */
  timeoutMs?: number;
  /** Fds one message may bring (default 8, the most any message carries); more closes the
   *  connection with a ResourceLimitError. */
  maxFdsPerMessage?: number;
  /** Fds the owner may hold at once (`held()`), counting those of requests waiting to be
   *  handled: a request that would pass `max` is refused, its fds closed, and the refusal goes
   *  to onProtocolError as a ResourceLimitError. */
  fdBudget?: { max: number; held: () => number };
}

export interface RequestOptions {
  fds?: readonly number[];
  /** Ask for an ack on a request without a reply of its own (needs REPLY_ACK). Default: ask
   *  whenever REPLY_ACK is negotiated, so failures are seen. */
  needReply?: boolean;
  timeoutMs?: number;
  /** Takes the fds of the reply (GET_SHARED_OBJECT, SET_DEVICE_STATE_FD, SHARED_OBJECT_LOOKUP):
   *  the caller owns them. Without it a reply's fds are closed. */
  onReplyFds?: (fds: number[]) => void;
}

interface Pending {
  id: number;
  name: string;
  resolve: (reply: DecodedReply<Channel> | null) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
  onReplyFds: ((fds: number[]) => void) | undefined;
}

export class Connection<C extends Channel> {
  readonly channel: C;
  /** Negotiated protocol features (sets the ack rules and the fd rules). */
  protocolFeatures = 0n;
  private readonly framer = new MessageFramer();
  private readonly pending: Pending[] = [];
  private closed = false;
  private closeError: Error | undefined;
  /** Requests being handled one at a time, in order (replies must keep request order). */
  private work: Promise<void> = Promise.resolve();
  /** Fds of requests in `work` not handled yet. */
  private waitingFds = 0;

  constructor(
    readonly socket: UnixSocket,
    private readonly options: ConnectionOptions<C>,
  ) {
    this.channel = options.channel;
    // Read a header, then exactly its payload: a read never reaches into the next message, so
    // fds always arrive with the message they belong to.
    socket.nextReadSize = () => this.framer.bytesToBoundary;
    socket.start({ onData: (chunk, fds) => this.onData(chunk, fds), onClose: (error) => this.onClosed(error) });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get replyAck(): boolean {
    return hasFeature(this.protocolFeatures, ProtocolFeature.VHOST_USER_PROTOCOL_F_REPLY_ACK);
  }

  /**
   * Sends a request. Resolves with the reply for requests that have one, with the ack for
   * requests sent with need_reply (rejects with NACK on a non-zero status), and with null at
   * once for requests that get no answer.
   */
  request<N extends RequestName<C>>(
    message: RequestOf<C> & { name: N },
    options: RequestOptions = {},
  ): Promise<DecodedReplyTo<C, N> | null> {
    if (this.closed)
      return Promise.reject(
        new ConnectionError('CLOSED', `connection closed${this.closeError ? `: ${this.closeError.message}` : ''}`),
      );
    const info = messageInfo(this.channel, message.name);
    if (!info) return Promise.reject(new ConnectionError('PROTOCOL', `unknown request ${message.name}`));
    const kind = info.reply.kind;
    const conditionalOn = info.reply.protocolFeature;
    const hasBody =
      kind === 'always' ||
      (kind === 'conditional' && conditionalOn !== undefined && hasFeature(this.protocolFeatures, conditionalOn));
    // REPLY_ACK: only on requests without their own reply, and never on one that is never answered.
    const needReply = !hasBody && kind !== 'none' && this.replyAck && (options.needReply ?? true);
    let bytes: Uint8Array;
    try {
      bytes = encode(this.channel, { ...message, needReply } as OutgoingMessage<C>, {
        protocolFeatures: this.protocolFeatures,
      });
    } catch (error) {
      return Promise.reject(error);
    }
    const expectsReply = hasBody || needReply;
    return new Promise((resolve, reject) => {
      if (expectsReply) {
        const entry: Pending = {
          id: info.id,
          name: info.name,
          resolve: resolve as Pending['resolve'],
          reject,
          timer: undefined,
          onReplyFds: options.onReplyFds,
        };
        const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? 5000;
        entry.timer = setTimeout(() => {
          // The stream's state is unknown after a lost reply: a late reply would be matched to
          // the wrong request, so the connection ends.
          this.close(new ConnectionError('TIMEOUT', `no reply to ${info.name} within ${timeoutMs} ms`));
        }, timeoutMs);
        this.pending.push(entry);
      }
      try {
        this.socket.send(bytes, options.fds ?? []);
      } catch (error) {
        if (expectsReply) this.pending.pop();
        reject(new ConnectionError('CLOSED', `send of ${info.name} failed`, { cause: error }));
        return;
      }
      if (!expectsReply) resolve(null);
    });
  }

  /** Sends a request that has a reply body and returns that body (rejects on an empty body). */
  async call<N extends RequestName<C>>(
    message: RequestOf<C> & { name: N },
    options: RequestOptions = {},
  ): Promise<ReplyPayload<C, N>> {
    const reply = await this.request(message, options);
    if (!reply || reply.empty || reply.ack)
      throw new ConnectionError(
        'EMPTY_REPLY',
        `${String(message.name)} was answered with ${reply?.ack ? 'an ack' : 'an empty body (the peer’s failure signal)'}`,
      );
    return reply.payload as ReplyPayload<C, N>;
  }

  private onData(chunk: Uint8Array, fds: number[]): void {
    for (const event of this.framer.push(chunk, fds)) {
      if (event.kind === 'error') {
        closeFds(event.fds);
        this.options.onProtocolError?.(event.error);
        continue;
      }
      this.onMessage(event.bytes, event.header, event.fds);
    }
  }

  private onMessage(bytes: Uint8Array, header: MessageHeader, fds: number[]): void {
    const maxFds = this.options.maxFdsPerMessage ?? VHOST_MEMORY_BASELINE_NREGIONS;
    if (fds.length > maxFds) {
      closeFds(fds);
      this.close(
        new ResourceLimitError(
          'FDS_PER_MESSAGE',
          `a message came with ${fds.length} fds; at most ${maxFds} are accepted (no message carries more)`,
        ),
      );
      return;
    }
    let message;
    try {
      message = decode(this.channel, bytes, { fds: fds.length, protocolFeatures: this.protocolFeatures });
    } catch (error) {
      closeFds(fds);
      // A decodable reply id with a bad body still answers the head request: fail it.
      const head = this.pending[0];
      if (head && isReply(header.flags)) {
        this.close(new ConnectionError('PROTOCOL', `bad reply to ${head.name}`, { cause: error }));
        return;
      }
      this.options.onProtocolError?.(error as Error);
      return;
    }
    if (message.kind === 'reply') {
      this.onReply(message as DecodedReply<C>, fds);
      return;
    }
    const request = message as DecodedRequest<C>;
    const budget = this.options.fdBudget;
    if (budget && fds.length > 0 && this.waitingFds + budget.held() + fds.length > budget.max) {
      closeFds(fds);
      const refusal = new ResourceLimitError(
        'FDS_PER_SESSION',
        `${String(request.name)} brought ${fds.length} fd(s) while ${this.waitingFds + budget.held()} were held; at most ${budget.max} are; refused it`,
      );
      this.work = this.work.then(() => this.handle(request, new ReceivedFds([]), refusal));
      return;
    }
    const received = new ReceivedFds(fds);
    this.waitingFds += fds.length;
    this.work = this.work.then(() => {
      this.waitingFds -= fds.length;
      return this.handle(request, received);
    });
  }

  private onReply(reply: DecodedReply<C>, fds: number[]): void {
    const head = this.pending.shift();
    // Hook (reply fds): handed to the requester that asked for them, closed otherwise.
    if (head && head.id === reply.id && head.onReplyFds && fds.length > 0) head.onReplyFds(fds);
    else closeFds(fds);
    if (!head || head.id !== reply.id) {
      this.close(
        new ConnectionError(
          'PROTOCOL',
          `unexpected reply ${String(reply.name)}${head ? ` while waiting for ${head.name}` : ''}`,
        ),
      );
      return;
    }
    clearTimeout(head.timer);
    if (reply.ack && reply.payload.value !== 0n) {
      head.reject(new ConnectionError('NACK', `${head.name} failed (status ${reply.payload.value})`));
      return;
    }
    head.resolve(reply as DecodedReply<Channel>);
  }

  /** Runs the handler and answers as the spec says for this request and the negotiated features.
   *  A request refused before handling (`refusal`) is answered as a failed one. */
  private async handle(request: DecodedRequest<C>, fds: ReceivedFds, refusal?: Error): Promise<void> {
    const info = messageInfo(this.channel, request.id);
    // A request still queued when the connection ended is dropped with its fds: the owner has
    // already released its state, and nobody would read the answer.
    if (!info || this.closed) {
      fds.closeRest();
      return;
    }
    let body: unknown;
    let failed: Error | undefined = refusal;
    try {
      if (!refusal) body = await this.options.onRequest?.(request, fds);
    } catch (error) {
      failed = error as Error;
    } finally {
      fds.closeRest();
    }
    // Hook (inflight): fds to attach to the reply; ours to close whatever happens to it.
    let replyFds: readonly number[] = [];
    if (body instanceof ReplyWithFds) {
      replyFds = body.fds;
      body = body.body;
    }
    try {
      this.answer(request, info, body, failed, replyFds);
    } finally {
      closeFds(replyFds);
    }
  }

  private answer(
    request: DecodedRequest<C>,
    info: NonNullable<ReturnType<typeof messageInfo>>,
    body: unknown,
    failed: Error | undefined,
    replyFds: readonly number[],
  ): void {
    if (this.closed) return;
    const kind = info.reply.kind;
    const conditionalOn = info.reply.protocolFeature;
    const hasBody =
      kind === 'always' ||
      (kind === 'conditional' && conditionalOn !== undefined && hasFeature(this.protocolFeatures, conditionalOn));
    let reply: Uint8Array | undefined;
    try {
      if (hasBody) {
        reply = encode(
          this.channel,
          { kind: 'reply', name: request.name, payload: failed ? null : (body ?? null) } as OutgoingMessage<C>,
          { protocolFeatures: this.protocolFeatures },
        );
      } else if (request.needReply) {
        // Every need_reply is answered, negotiated or not (as libvhost-user does): a peer that
        // asks for an ack must never wait forever. See the REPLY_ACK divergences in spec/.
        reply = encode(this.channel, {
          kind: 'reply',
          ack: true,
          name: request.name,
          payload: { value: failed ? 1n : 0n },
        } as OutgoingMessage<C>);
      }
    } catch (error) {
      failed ??= error as Error;
      reply = encode(this.channel, { kind: 'reply', name: request.name, payload: null } as OutgoingMessage<C>);
    }
    if (failed) this.options.onProtocolError?.(failed);
    if (reply) {
      try {
        this.socket.send(reply, failed ? [] : replyFds);
      } catch {
        // closed meanwhile: nothing to answer
      }
    }
  }

  private onClosed(error?: Error): void {
    for (const event of this.framer.end()) if (event.kind === 'error') closeFds(event.fds);
    this.finish(error);
  }

  private finish(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.closeError = error;
    const pending = this.pending.splice(0);
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(
        error instanceof ConnectionError
          ? error
          : new ConnectionError('CLOSED', `connection closed before the reply to ${p.name}`, { cause: error }),
      );
    }
    this.options.onClose?.(error);
  }

  /** Closes the socket; pending requests are rejected. */
  close(error?: Error): void {
    if (this.closed) return;
    this.finish(error);
    this.socket.close();
  }
}

export { VhostUserError };
