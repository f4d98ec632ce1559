/**
 * Non-blocking Unix stream sockets with fd passing, driven by libuv readiness (never blocking
 * the event loop). Reads are sized by the owner so that a read never crosses into a message
 * that carries fds: Linux attaches fds to the first read that touches their message's bytes.
 * What waits to be sent is bounded (a peer that does not read is paused, then dropped), and
 * the accept loop backs off when the process is out of fds.
 */
import { existsSync, unlinkSync } from 'node:fs';
import { DEFAULT_LIMITS, ResourceLimitError, type SendQueueLimits } from './limits.js';
import { closeFds, isErrno, native, READABLE, WRITABLE, type WatchHandle } from './native.js';

export interface SocketHandlers {
  /** Bytes (a fresh copy) and the fds that came with them; the handler owns the fds. */
  onData(chunk: Uint8Array, fds: number[]): void;
  /** The stream ended (peer closed, error, or close()). Called once. */
  onClose(error?: Error): void;
}

interface PendingWrite {
  bytes: Uint8Array;
  offset: number;
  /** Fds still to send (with the first byte); duplicates the socket owns until sent. */
  fds: number[];
}

const DEFAULT_READ = 64 * 1024;

export class UnixSocket {
  private watcher: WatchHandle | undefined;
  private readonly queue: PendingWrite[] = [];
  /** Bytes in `queue` not yet sent. */
  private queuedBytes = 0;
  /** Reading stops while the peer leaves too much unsent (it would only make more replies). */
  private readingPaused = false;
  private stallTimer: NodeJS.Timeout | undefined;
  private readonly limits: SendQueueLimits;
  private closed = false;
  private readonly buffer = new Uint8Array(DEFAULT_READ);
  private handlers: SocketHandlers | undefined;
  /** How many bytes the next read may take (the owner knows message boundaries). */
  nextReadSize: () => number = () => DEFAULT_READ;

  /** Takes ownership of a connected, non-blocking stream socket fd. */
  constructor(
    readonly fd: number,
    limits: Partial<SendQueueLimits> = {},
  ) {
    this.limits = {
      maxQueuedBytes: limits.maxQueuedBytes ?? DEFAULT_LIMITS.maxQueuedBytes,
      stallTimeoutMs: limits.stallTimeoutMs ?? DEFAULT_LIMITS.stallTimeoutMs,
    };
  }

  static connect(path: string, limits: Partial<SendQueueLimits> = {}): UnixSocket {
    return new UnixSocket(native.connect(path), limits);
  }

  /** Two connected sockets (e.g. for SET_BACKEND_REQ_FD): [ours, theirs] as raw fds. */
  static pair(): [number, number] {
    return native.socketpair();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Bytes given to send() that the peer has not taken yet. */
  get pendingBytes(): number {
    return this.queuedBytes;
  }

  /** Starts reading; handlers get data and the close event. */
  start(handlers: SocketHandlers): void {
    if (this.closed) throw new Error('socket is closed');
    this.handlers = handlers;
    this.watcher = native.watch(this.fd, this.wantedEvents(), (error, events) => this.onReady(error, events));
  }

  /** Sends bytes with fds on the first byte. The caller keeps its fds (they are duplicated if the
   *  write has to wait). Throws once the socket is closed. */
  send(bytes: Uint8Array, fds: readonly number[] = []): void {
    if (this.closed) throw Object.assign(new Error('send on a closed socket'), { code: 'EPIPE' });
    // Reading is paused at maxQueuedBytes; what still arrives (messages the owner sends on its
    // own) may fill the queue up to twice that, then the peer is dropped.
    const hardLimit = 2 * this.limits.maxQueuedBytes;
    if (this.queuedBytes >= hardLimit) {
      this.shutdown(
        new ResourceLimitError(
          'SEND_QUEUE_FULL',
          `the peer does not read: ${this.queuedBytes} bytes were waiting to be sent (limit ${hardLimit}); dropped it`,
        ),
      );
      throw Object.assign(new Error('send failed: the peer does not read'), { code: 'EPIPE' });
    }
    let offset = 0;
    if (this.queue.length === 0) {
      const sent = this.trySend(bytes, 0, fds);
      if (this.closed) throw Object.assign(new Error('send failed: the socket closed'), { code: 'EPIPE' });
      if (sent === bytes.length) return;
      offset = Math.max(sent, 0);
      this.queue.push({ bytes, offset, fds: sent > 0 ? [] : fds.map((fd) => native.dup(fd)) });
    } else {
      this.queue.push({ bytes, offset: 0, fds: fds.map((fd) => native.dup(fd)) });
    }
    this.queuedBytes += bytes.length - offset;
    this.updateWatch();
  }

  /** Bytes written, -1 on EAGAIN; closes the socket on other errors. */
  private trySend(bytes: Uint8Array, offset: number, fds: readonly number[]): number {
    try {
      return native.sendmsg(this.fd, offset === 0 ? bytes : bytes.subarray(offset), fds);
    } catch (error) {
      this.shutdown(error as Error);
      return -1;
    }
  }

  private flush(): void {
    while (this.queue.length > 0 && !this.closed) {
      const head = this.queue[0] as PendingWrite;
      const sent = this.trySend(head.bytes, head.offset, head.fds);
      if (sent < 0) break;
      if (head.fds.length > 0) {
        closeFds(head.fds);
        head.fds = [];
      }
      head.offset += sent;
      this.queuedBytes -= sent;
      if (sent > 0 && this.readingPaused) this.armStallTimer(); // the peer reads: not stalled
      if (head.offset < head.bytes.length) break;
      this.queue.shift();
    }
    this.updateWatch();
  }

  private wantedEvents(): number {
    return (this.readingPaused ? 0 : READABLE) | (this.queue.length > 0 ? WRITABLE : 0);
  }

  private updateWatch(): void {
    if (this.closed) return;
    const max = this.limits.maxQueuedBytes;
    if (!this.readingPaused && this.queuedBytes >= max) {
      this.readingPaused = true;
      this.armStallTimer();
    } else if (this.readingPaused && this.queuedBytes <= max / 2) {
      this.readingPaused = false;
      clearTimeout(this.stallTimer);
      this.stallTimer = undefined;
    }
    if (this.watcher) native.watchUpdate(this.watcher, this.wantedEvents());
  }

  /** (Re)starts the wait for the peer to take some of what is held for it. */
  private armStallTimer(): void {
    clearTimeout(this.stallTimer);
    const ms = this.limits.stallTimeoutMs;
    this.stallTimer = setTimeout(() => {
      this.shutdown(
        new ResourceLimitError(
          'SEND_STALLED',
          `the peer read nothing for ${ms} ms while ${this.queuedBytes} bytes waited for it; dropped it`,
        ),
      );
    }, ms);
    this.stallTimer.unref();
  }

  private onReady(error: string | null, events: number): void {
    if (this.closed) return;
    if (error) {
      this.shutdown(Object.assign(new Error(`poll error ${error}`), { code: error }));
      return;
    }
    if (events & WRITABLE) this.flush();
    if (events & READABLE) this.readAvailable();
  }

  private readAvailable(): void {
    // Bounded so one busy peer cannot starve the loop; the poll fires again if more is ready.
    for (let i = 0; i < 64 && !this.closed && !this.readingPaused; i++) {
      const want = Math.max(1, Math.min(this.nextReadSize(), this.buffer.length));
      let result;
      try {
        result = native.recvmsg(this.fd, this.buffer.subarray(0, want));
      } catch (error) {
        this.shutdown(error as Error);
        return;
      }
      if (result === null) return;
      if (result.bytes === 0) {
        closeFds(result.fds);
        this.shutdown();
        return;
      }
      this.handlers?.onData(this.buffer.slice(0, result.bytes), result.fds);
    }
  }

  /** Closes the socket; queued writes are dropped (their fd duplicates closed). */
  close(): void {
    this.shutdown();
  }

  private shutdown(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.stallTimer);
    if (this.watcher) native.unwatch(this.watcher);
    this.watcher = undefined;
    for (const w of this.queue) closeFds(w.fds);
    this.queue.length = 0;
    this.queuedBytes = 0;
    closeFds([this.fd]);
    const handlers = this.handlers;
    this.handlers = undefined;
    handlers?.onClose(error && !isErrno(error, 'ECONNRESET') ? error : undefined);
  }
}

export interface ListenerOptions {
  backlog?: number;
  /** Remove a stale socket file at `path` first. Default true. */
  replace?: boolean;
  /** Limits given to each accepted socket. */
  socketLimits?: Partial<SendQueueLimits>;
  /** Accept failures (EMFILE, ENFILE...): reported once each time the listener starts waiting. */
  onError?: (error: Error) => void;
}

const FIRST_BACKOFF_MS = 10;
const MAX_BACKOFF_MS = 1000;

/** A listening Unix socket; calls onConnection with each accepted socket (not yet started). */
export class UnixListener {
  private watcher: WatchHandle | undefined;
  readonly fd: number;
  private closed = false;
  /** Current wait before accepting again; 0 when accepting normally. */
  private backoffMs = 0;
  private backoffTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly path: string,
    private readonly onConnection: (socket: UnixSocket) => void,
    private readonly options: ListenerOptions = {},
  ) {
    if ((options.replace ?? true) && existsSync(path)) unlinkSync(path);
    this.fd = native.listen(path, options.backlog ?? 16);
    this.watcher = native.watch(this.fd, READABLE, (error) => {
      if (!error && !this.closed) this.acceptWaiting();
    });
  }

  private acceptWaiting(): void {
    while (!this.closed && this.backoffTimer === undefined) {
      let fd: number;
      try {
        fd = native.accept(this.fd);
      } catch (error) {
        if (isErrno(error, 'ECONNABORTED')) continue; // that client is gone; the next one
        // EMFILE, ENFILE, ENOBUFS...: the connection stays queued and the socket stays readable,
        // so retrying at once would spin; wait, longer each time, until fds are free.
        this.backOff(error as Error);
        return;
      }
      this.backoffMs = 0;
      if (fd < 0) return;
      this.onConnection(new UnixSocket(fd, this.options.socketLimits));
    }
  }

  private backOff(error: Error): void {
    const first = this.backoffMs === 0;
    this.backoffMs = first ? FIRST_BACKOFF_MS : Math.min(2 * this.backoffMs, MAX_BACKOFF_MS);
    if (first) {
      const code = isErrno(error) ? error.code : 'error';
      this.options.onError?.(
        Object.assign(
          new Error(
            `accept on ${this.path} failed (${code}: ${error.message}); waiting up to ${MAX_BACKOFF_MS} ms between retries until fds are free`,
            { cause: error },
          ),
          { code },
        ),
      );
    }
    if (this.watcher) native.watchUpdate(this.watcher, 0);
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = undefined;
      if (this.closed || !this.watcher) return;
      native.watchUpdate(this.watcher, READABLE);
      this.acceptWaiting();
    }, this.backoffMs);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.backoffTimer);
    if (this.watcher) native.unwatch(this.watcher);
    closeFds([this.fd]);
    try {
      unlinkSync(this.path);
    } catch {
      // already removed
    }
  }
}
