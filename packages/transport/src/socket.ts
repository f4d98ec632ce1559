/**
 * Non-blocking Unix stream sockets with fd passing, driven by libuv readiness (never blocking
 * the event loop). Reads are sized by the owner so that a read never crosses into a message
 * that carries fds: Linux attaches fds to the first read that touches their message's bytes.
 */
import { existsSync, unlinkSync } from 'node:fs';
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
  private closed = false;
  private readonly buffer = new Uint8Array(DEFAULT_READ);
  private handlers: SocketHandlers | undefined;
  /** How many bytes the next read may take (the owner knows message boundaries). */
  nextReadSize: () => number = () => DEFAULT_READ;

  /** Takes ownership of a connected, non-blocking stream socket fd. */
  constructor(readonly fd: number) {}

  static connect(path: string): UnixSocket {
    return new UnixSocket(native.connect(path));
  }

  /** Two connected sockets (e.g. for SET_BACKEND_REQ_FD): [ours, theirs] as raw fds. */
  static pair(): [number, number] {
    return native.socketpair();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Starts reading; handlers get data and the close event. */
  start(handlers: SocketHandlers): void {
    if (this.closed) throw new Error('socket is closed');
    this.handlers = handlers;
    this.watcher = native.watch(this.fd, READABLE | (this.queue.length > 0 ? WRITABLE : 0), (error, events) =>
      this.onReady(error, events),
    );
  }

  /** Sends bytes with fds on the first byte. The caller keeps its fds (they are duplicated if the
   *  write has to wait). Throws once the socket is closed. */
  send(bytes: Uint8Array, fds: readonly number[] = []): void {
    if (this.closed) throw Object.assign(new Error('send on a closed socket'), { code: 'EPIPE' });
    if (this.queue.length === 0) {
      const sent = this.trySend(bytes, 0, fds);
      if (this.closed) throw Object.assign(new Error('send failed: the socket closed'), { code: 'EPIPE' });
      if (sent === bytes.length) return;
      const offset = Math.max(sent, 0);
      this.queue.push({ bytes, offset, fds: sent > 0 ? [] : fds.map((fd) => native.dup(fd)) });
    } else {
      this.queue.push({ bytes, offset: 0, fds: fds.map((fd) => native.dup(fd)) });
    }
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
      if (head.offset < head.bytes.length) break;
      this.queue.shift();
    }
    this.updateWatch();
  }

  private updateWatch(): void {
    if (this.watcher && !this.closed)
      native.watchUpdate(this.watcher, READABLE | (this.queue.length > 0 ? WRITABLE : 0));
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
    for (let i = 0; i < 64 && !this.closed; i++) {
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
    if (this.watcher) native.unwatch(this.watcher);
    this.watcher = undefined;
    for (const w of this.queue) closeFds(w.fds);
    this.queue.length = 0;
    closeFds([this.fd]);
    const handlers = this.handlers;
    this.handlers = undefined;
    handlers?.onClose(error && !isErrno(error, 'ECONNRESET') ? error : undefined);
  }
}

/** A listening Unix socket; calls onConnection with each accepted socket (not yet started). */
export class UnixListener {
  private watcher: WatchHandle | undefined;
  readonly fd: number;
  private closed = false;

  constructor(
    readonly path: string,
    onConnection: (socket: UnixSocket) => void,
    options: { backlog?: number; replace?: boolean } = {},
  ) {
    if ((options.replace ?? true) && existsSync(path)) unlinkSync(path);
    this.fd = native.listen(path, options.backlog ?? 16);
    this.watcher = native.watch(this.fd, READABLE, (error) => {
      if (error || this.closed) return;
      for (;;) {
        let fd: number;
        try {
          fd = native.accept(this.fd);
        } catch {
          return; // EMFILE and friends: try again on the next readiness
        }
        if (fd < 0) return;
        onConnection(new UnixSocket(fd));
      }
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.watcher) native.unwatch(this.watcher);
    closeFds([this.fd]);
    try {
      unlinkSync(this.path);
    } catch {
      // already removed
    }
  }
}
