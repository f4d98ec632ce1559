/** eventfd notifiers (kick and call): signal, and watch for signals without blocking. */
import { closeFds, native, READABLE, type WatchHandle } from './native.js';

export class EventFd {
  private watcher: WatchHandle | undefined;
  private closed = false;

  /** Takes ownership of `fd` (a new eventfd when omitted). */
  constructor(readonly fd: number = native.eventfd(0)) {}

  /** Adds 1 to the counter: wakes whoever watches the other end. */
  signal(): void {
    native.eventfdWrite(this.fd, 1);
  }

  /** Reads and resets the counter; 0n when nothing was signalled. */
  drain(): bigint {
    return native.eventfdRead(this.fd) ?? 0n;
  }

  /** Calls `onSignal(count)` each time the counter becomes non-zero (the counter is drained). */
  watch(onSignal: (count: bigint) => void): void {
    if (this.watcher || this.closed) return;
    this.watcher = native.watch(this.fd, READABLE, (error) => {
      if (error || this.closed) return;
      const count = this.drain();
      if (count > 0n) onSignal(count);
    });
  }

  unwatch(): void {
    if (this.watcher) native.unwatch(this.watcher);
    this.watcher = undefined;
  }

  close(): void {
    if (this.closed) return;
    this.unwatch();
    this.closed = true;
    closeFds([this.fd]);
  }
}
