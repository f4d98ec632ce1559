/**
 * Device state transfer (spec: prose/device-state.md): the back-end's own state travels through
 * the front-end's migration stream. SET_DEVICE_STATE_FD opens a one-way byte channel (save: the
 * back-end writes, load: it reads to end of file); CHECK_DEVICE_STATE then reports whether the
 * back-end's side worked. Both sides are here: the back-end's transfer and the front-end's calls.
 */
import { Socket } from 'node:net';
import { MigrationPhase, TransferDirection, type DeviceStateTransfer } from '@vhost-user/codec';
import type { Connection } from './connection.js';
import { closeFds, native } from './native.js';

/** The reply's u64: the error in its low byte, and a flag saying no fd is attached (the
 *  front-end keeps its own channel). QEMU reads them with the ring index and no-fd masks. */
export const DEVICE_STATE_ERROR_MASK = 0xffn;
export const DEVICE_STATE_INVALID_FD = 0x100n;

/** Largest state a back-end accepts when loading (the stream comes from another host). */
export const MAX_DEVICE_STATE_BYTES = 64 << 20;

/** What a device provides to take part in state transfer. */
export interface DeviceStateOwner {
  /** Serialises the device state (the device is suspended). */
  saveState(): Uint8Array | Promise<Uint8Array>;
  /** Applies a state saved by `saveState` on the source; throws on anything it cannot use. */
  loadState(state: Uint8Array): void | Promise<void>;
}

export class DeviceStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceStateError';
  }
}

/** Reads a stream fd to its end (it is closed after). */
function readAll(fd: number, limit: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const socket = new Socket({ fd, readable: true, writable: false });
    const chunks: Buffer[] = [];
    let total = 0;
    socket.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) {
        socket.destroy(new DeviceStateError(`device state is larger than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    socket.on('error', reject);
    socket.on('end', () => {
      socket.destroy();
      resolve(new Uint8Array(Buffer.concat(chunks)));
    });
  });
}

/** Writes `bytes` to a stream fd and closes it, so the reader sees the end. */
function writeAll(fd: number, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new Socket({ fd, readable: false, writable: true });
    socket.on('error', reject);
    socket.end(bytes, () => {
      socket.destroy();
      resolve();
    });
  });
}

/** The back-end's side: at most one transfer per session at a time. */
export class BackendStateTransfer {
  private running: Promise<void> | undefined;

  constructor(private readonly owner: DeviceStateOwner) {}

  /**
   * SET_DEVICE_STATE_FD. `suspended` says whether every ring is stopped. Takes `fd`; starts the
   * transfer in the background (the front-end reads or writes only after the reply) and returns
   * the reply's value.
   */
  open(params: DeviceStateTransfer, fd: number, suspended: boolean): bigint {
    const refuse = (why: string) => {
      closeFds([fd]);
      this.running = Promise.reject(new DeviceStateError(why));
      this.running.catch(() => undefined); // reported by CHECK_DEVICE_STATE
      return DEVICE_STATE_INVALID_FD | 1n;
    };
    if (params.phase !== MigrationPhase.VHOST_TRANSFER_STATE_PHASE_STOPPED)
      return refuse(`transfer phase ${params.phase} is not known`);
    if (!suspended) return refuse('a state transfer needs every ring stopped');
    if (params.direction === TransferDirection.VHOST_TRANSFER_STATE_DIRECTION_SAVE) {
      this.running = Promise.resolve()
        .then(() => this.owner.saveState())
        .then((state) => writeAll(fd, state));
    } else if (params.direction === TransferDirection.VHOST_TRANSFER_STATE_DIRECTION_LOAD) {
      this.running = readAll(fd, MAX_DEVICE_STATE_BYTES).then((state) => this.owner.loadState(state));
    } else {
      return refuse(`transfer direction ${params.direction} is not known`);
    }
    this.running.catch(() => undefined);
    return DEVICE_STATE_INVALID_FD; // success; the front-end's channel is used
  }

  /** CHECK_DEVICE_STATE: 0 once the transfer succeeded, 1 if it failed or none was opened. */
  async check(onError?: (error: Error) => void): Promise<bigint> {
    const running = this.running;
    this.running = undefined;
    if (!running) {
      onError?.(new DeviceStateError('CHECK_DEVICE_STATE without a transfer'));
      return 1n;
    }
    try {
      await running;
      return 0n;
    } catch (error) {
      onError?.(error as Error);
      return 1n;
    }
  }
}

/** Opens a transfer from the front-end: a socketpair whose far end goes to the back-end. */
async function openTransfer(conn: Connection<'frontend'>, direction: number): Promise<number> {
  const [ours, theirs] = native.socketpair();
  let returned: number | undefined;
  try {
    const reply = await conn.call(
      {
        name: 'VHOST_USER_SET_DEVICE_STATE_FD',
        payload: { direction, phase: MigrationPhase.VHOST_TRANSFER_STATE_PHASE_STOPPED },
      },
      { fds: [theirs], onReplyFds: (fds) => ([returned] = fds) },
    );
    const error = reply.value & DEVICE_STATE_ERROR_MASK;
    if (error !== 0n) throw new DeviceStateError(`the back-end refused the state transfer (error ${error})`);
    if ((reply.value & DEVICE_STATE_INVALID_FD) === 0n) {
      // The back-end prefers its own channel: ours is dropped.
      if (returned === undefined) throw new DeviceStateError('the back-end returned no channel fd');
      closeFds([ours]);
      const fd = returned;
      returned = undefined;
      return fd;
    }
    return ours;
  } catch (error) {
    closeFds([ours]);
    throw error;
  } finally {
    closeFds([theirs]);
    if (returned !== undefined) closeFds([returned]);
  }
}

async function checkState(conn: Connection<'frontend'>): Promise<void> {
  const result = await conn.call({ name: 'VHOST_USER_CHECK_DEVICE_STATE', payload: null });
  if (result.value !== 0n) throw new DeviceStateError(`the back-end reports a failed state transfer (${result.value})`);
}

/** Front-end, source side: reads the suspended back-end's state (needs DEVICE_STATE). */
export async function saveDeviceState(conn: Connection<'frontend'>): Promise<Uint8Array> {
  const fd = await openTransfer(conn, TransferDirection.VHOST_TRANSFER_STATE_DIRECTION_SAVE);
  const state = await readAll(fd, MAX_DEVICE_STATE_BYTES);
  await checkState(conn);
  return state;
}

/** Front-end, destination side: hands the state to the back-end (needs DEVICE_STATE). */
export async function loadDeviceState(conn: Connection<'frontend'>, state: Uint8Array): Promise<void> {
  const fd = await openTransfer(conn, TransferDirection.VHOST_TRANSFER_STATE_DIRECTION_LOAD);
  await writeAll(fd, state);
  await checkState(conn);
}
