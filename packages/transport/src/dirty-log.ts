/**
 * Dirty logging (spec: prose/migration.md): the log is a bitmap over guest-physical memory, one
 * bit per VHOST_LOG_PAGE page, shared with the front-end, which reads and clears it while the
 * back-end sets bits. While VHOST_F_LOG_ALL is acked, every write the back-end makes to guest
 * memory through a descriptor is marked, and with VHOST_VRING_F_LOG its writes to the used ring.
 */
import { VHOST_LOG_PAGE, type Log } from '@vhost-user/codec';
import { native } from './native.js';
import type { Chain, Segment } from './ring/queues.js';

export class DirtyLogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DirtyLogError';
  }
}

/** The shared bitmap. */
export class DirtyLog {
  private readonly bits: Uint8Array;
  private closed = false;

  /** `buffer` is the log itself (byte 0 holds the bits of pages 0-7). */
  constructor(
    private readonly buffer: ArrayBuffer,
    private readonly mapped = false,
  ) {
    this.bits = new Uint8Array(buffer);
  }

  /** SET_LOG_BASE with LOG_SHMFD: maps the front-end's log. The fd may be closed afterwards. */
  static map(description: Log, fd: number): DirtyLog {
    const size = Number(description.mmapSize);
    const offset = Number(description.mmapOffset);
    if (!Number.isSafeInteger(size) || !Number.isSafeInteger(offset) || size < 1)
      throw new DirtyLogError(
        `log of ${description.mmapSize} bytes at offset ${description.mmapOffset} cannot be mapped`,
      );
    return new DirtyLog(native.mmap(fd, offset, size, true), true);
  }

  /** Guest-physical bytes the log covers. */
  get coveredBytes(): number {
    return this.bits.length * 8 * VHOST_LOG_PAGE;
  }

  /** Marks every page [gpa, gpa + length) touches, with an atomic OR per byte. */
  markRange(gpa: number, length: number): void {
    if (length <= 0) return;
    if (this.closed) throw new DirtyLogError('the log was released');
    const first = Math.floor(gpa / VHOST_LOG_PAGE);
    const last = Math.floor((gpa + length - 1) / VHOST_LOG_PAGE);
    if (first < 0 || last >= this.bits.length * 8)
      throw new DirtyLogError(
        `write at 0x${gpa.toString(16)}+${length} is past the log, which covers 0x${this.coveredBytes.toString(16)} bytes`,
      );
    for (let page = first; page <= last; page++) Atomics.or(this.bits, page >>> 3, 1 << (page & 7));
  }

  /** Whether a page's bit is set (the front-end clears bits as it copies). */
  isMarked(page: number): boolean {
    return ((this.bits[page >>> 3] ?? 0) & (1 << (page & 7))) !== 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.mapped) native.munmap(this.buffer);
  }
}

/** Where a ring's used ring is in the log, when the front-end asked for it (VHOST_VRING_F_LOG). */
export interface UsedRingLog {
  /** The `log` address from SET_VRING_ADDR: guest-physical address of the used ring. */
  gpa: number;
  bytes: number;
}

/** Where one ring's writes go while logging is on. */
export interface RingLogTarget {
  log: DirtyLog;
  /** Present when the front-end asked for the used ring to be logged. */
  usedRing: UsedRingLog | undefined;
}

/**
 * Logs what one ring's device writes: the first `written` bytes of a chain's device-writable
 * buffers when it is returned, and the used ring once a batch is published. It remembers every
 * chain's buffers from the moment it is popped, so a request taken before logging was turned on
 * and completed after is still logged.
 */
export class RingWriteLogger {
  private readonly writable = new Map<number, Segment[]>();

  constructor(
    /** Guest-physical address of a memory offset (segments are offsets where guest RAM is mapped). */
    private readonly gpaOf: (offset: number) => number,
    /** The log to write now, or undefined while logging is off. */
    private readonly target: () => RingLogTarget | undefined,
  ) {}

  popped(chain: Chain): void {
    this.writable.set(chain.head, chain.writable);
  }

  /** The device wrote `written` bytes into the chain, from the start of its writable buffers. */
  pushed(head: number, written: number): void {
    const segments = this.writable.get(head) ?? [];
    this.writable.delete(head);
    const target = this.target();
    if (!target) return;
    let left = written;
    for (const s of segments) {
      if (left <= 0) break;
      const n = Math.min(left, s.length);
      target.log.markRange(this.gpaOf(s.offset), n);
      left -= n;
    }
  }

  /** A batch reached the used ring. */
  published(): void {
    const target = this.target();
    if (target?.usedRing) target.log.markRange(target.usedRing.gpa, target.usedRing.bytes);
  }

  /** The ring stopped: what was popped is forgotten. */
  clear(): void {
    this.writable.clear();
  }
}
