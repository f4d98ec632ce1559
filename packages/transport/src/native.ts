/**
 * The native addon (native/addon.c), typed. Loaded once; every call is synchronous and
 * non-blocking (fds are O_NONBLOCK; readiness comes from `watch`, a libuv poll).
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface RecvResult {
  /** Bytes read; 0 means the peer closed the stream. */
  bytes: number;
  /** Fds that came with the bytes; the caller owns them. */
  fds: number[];
  /** The kernel dropped fds that did not fit (they are already closed). */
  truncatedFds: boolean;
}

/** Opaque handle of a libuv poll watcher. */
export interface WatchHandle {
  readonly __watch: unique symbol;
}

export const READABLE = 1;
export const WRITABLE = 2;

export interface NativeBinding {
  connect(path: string): number;
  listen(path: string, backlog: number): number;
  /** A connected fd, or -1 when none is waiting. */
  accept(fd: number): number;
  socketpair(): [number, number];
  /** Bytes written, or -1 when the socket buffer is full (EAGAIN). */
  sendmsg(fd: number, bytes: Uint8Array, fds: readonly number[]): number;
  /** null when nothing is ready (EAGAIN). */
  recvmsg(fd: number, buffer: Uint8Array): RecvResult | null;
  memfdCreate(name: string, size: number): number;
  ftruncate(fd: number, size: number): void;
  eventfd(initial: number): number;
  /** The counter, reset to 0; null when it was 0. */
  eventfdRead(fd: number): bigint | null;
  /** false when the counter would overflow. */
  eventfdWrite(fd: number, value?: number): boolean;
  fstatSize(fd: number): number;
  close(fd: number): void;
  dup(fd: number): number;
  /** A shared mapping of [offset, offset+length) of fd; refused (EOVERFLOW) past the file's end. */
  mmap(fd: number, offset: number, length: number, writable: boolean): ArrayBuffer;
  /** Unmaps and detaches a buffer from mmap(). */
  munmap(buffer: ArrayBuffer): void;
  /** MAP_SHARED|MAP_FIXED of a file range over pages of a memory (a Uint8Array over all of it). */
  mapInto(
    memory: Uint8Array,
    memOffset: number,
    length: number,
    fd: number,
    fileOffset: number,
    writable: boolean,
  ): void;
  /** Faults contained so far in the mapInto ranges of this memory: an access past the end of a
   *  file that shrank after it was mapped reads a private zero page instead of raising SIGBUS. */
  guardFaults(memory: Uint8Array): number;
  /**
   * Runs block I/O on libuv's thread pool, one job for the batch: `ops` holds, per operation,
   * kind (0 read, 1 write, 2 fsync), file position, segment count, then offset and length in
   * `memory` of each segment. `done` gets, per operation, the bytes moved or -errno.
   */
  ioBatch(memory: Uint8Array, fd: number, ops: Float64Array, done: (results: Float64Array) => void): void;
  /** The reads of `ops` (same layout) the page cache holds, done now without blocking
   *  (RWF_NOWAIT); per operation the bytes read, or -EAGAIN for what is left to ioBatch. */
  ioTryRead(memory: Uint8Array, fd: number, ops: Float64Array): Float64Array;
  /** Puts zeroed anonymous pages back over a range mapped by mapInto. */
  unmapFrom(memory: Uint8Array, memOffset: number, length: number): void;
  watch(fd: number, events: number, callback: (error: string | null, events: number) => void): WatchHandle;
  watchUpdate(handle: WatchHandle, events: number): void;
  unwatch(handle: WatchHandle): void;
  pageSize(): number;
}

/** Every function of the addon, so the lazy stand-ins below cover all of them. */
const FUNCTIONS: { [K in keyof NativeBinding]: true } = {
  connect: true,
  listen: true,
  accept: true,
  socketpair: true,
  sendmsg: true,
  recvmsg: true,
  memfdCreate: true,
  ftruncate: true,
  eventfd: true,
  eventfdRead: true,
  eventfdWrite: true,
  fstatSize: true,
  close: true,
  dup: true,
  mmap: true,
  munmap: true,
  mapInto: true,
  guardFaults: true,
  ioBatch: true,
  ioTryRead: true,
  unmapFrom: true,
  watch: true,
  watchUpdate: true,
  unwatch: true,
  pageSize: true,
};

/**
 * Finds the addon with node-gyp-build: the prebuilt binary shipped in prebuilds/<platform>-<arch>/
 * when one matches, else the one compiled at install time into build/.
 */
function load(): NativeBinding {
  const require = createRequire(import.meta.url);
  const root = fileURLToPath(new URL('..', import.meta.url));
  const nodeGypBuild = require('node-gyp-build') as (dir: string) => NativeBinding;
  try {
    return nodeGypBuild(root);
  } catch (error) {
    throw new Error(
      `@vhost-user/transport: no native addon for ${process.platform}-${process.arch} in ${root} ` +
        `(no prebuilt binary matches and none was compiled at install). Install python3, make and a C ` +
        `compiler with the Node.js headers, then run "npm rebuild @vhost-user/transport". ` +
        `(${(error as Error).message})`,
    );
  }
}

/**
 * The addon, loaded on first use rather than at import, so that importing the package (for its
 * types, or for code paths that never open a socket) does not need the binary. Each function
 * starts as a stand-in that loads the addon and then replaces every stand-in with the real
 * function, so later calls go straight to the addon.
 */
export const native = {} as NativeBinding;
for (const name of Object.keys(FUNCTIONS) as (keyof NativeBinding)[]) {
  const standIn = (...args: unknown[]) => {
    const binding = load();
    if (typeof binding[name] !== 'function')
      throw new Error(
        `@vhost-user/transport: the native addon has no ${name}(); it is older than this package, rebuild it (npm rebuild @vhost-user/transport)`,
      );
    Object.assign(native, binding);
    return (native[name] as (...a: unknown[]) => unknown)(...args);
  };
  (native as unknown as Record<string, unknown>)[name] = standIn;
}

/** An error thrown by the addon: `code` is the errno name. */
export interface ErrnoError extends Error {
  code: string;
  errno?: number;
  syscall?: string;
}

export function isErrno(error: unknown, code?: string): error is ErrnoError {
  return (
    error instanceof Error &&
    typeof (error as ErrnoError).code === 'string' &&
    (code === undefined || (error as ErrnoError).code === code)
  );
}

/** Closes fds the caller owns, ignoring ones already gone. */
export function closeFds(fds: Iterable<number>): void {
  for (const fd of fds) {
    try {
      native.close(fd);
    } catch {
      // EBADF: it was closed already; nothing else to do.
    }
  }
}
