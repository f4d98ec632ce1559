/**
 * Ownership of received fds: a message's fds are handed to its handler in a ReceivedFds; what
 * the handler does not take is closed when the handler is done, so nothing received can leak.
 */
import { closeFds } from './native.js';

export class ReceivedFds {
  private readonly fds: (number | undefined)[];

  constructor(fds: readonly number[]) {
    this.fds = [...fds];
  }

  get count(): number {
    return this.fds.length;
  }

  /** Takes fd `index`: the caller now owns it (and must close it). */
  take(index = 0): number {
    const fd = this.fds[index];
    if (fd === undefined)
      throw Object.assign(new Error(`no fd ${index} with this message (or already taken)`), { code: 'FD_MISSING' });
    this.fds[index] = undefined;
    return fd;
  }

  takeAll(): number[] {
    return this.fds.map((_, i) => this.take(i));
  }

  /** Closes every fd not taken. */
  closeRest(): void {
    closeFds(this.fds.filter((fd): fd is number => fd !== undefined));
    this.fds.fill(undefined);
  }
}
