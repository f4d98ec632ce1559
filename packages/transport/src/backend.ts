/**
 * vhost-user back-end: listens, accepts front-ends one session per connection, and runs the
 * spec's state machine: feature negotiation and gating, ownership, guest memory (a
 * SessionMemory: whole regions or windows, tables replaced as transactions), rings (SessionRing)
 * that start on SET_VRING_KICK, are enabled by SET_VRING_ENABLE (when protocol features are
 * negotiated) and stop on GET_VRING_BASE. A device implements `VhostUserDevice`; the back-end
 * drives it. A misbehaving peer costs its own connection, never the process or the next session.
 */
import { lstatSync, unlinkSync } from 'node:fs';
import {
  ProtocolFeature,
  VHOST_USER_VRING_IDX_MASK,
  VHOST_USER_VRING_NOFD_MASK,
  VirtioFeature,
  featureMask,
  hasFeature,
  isVhostUserError,
  messageInfo,
  type DecodedRequest,
  type RequestOf,
} from '@vhost-user/codec';
import { GuestMemory } from '@vhost-user/vring';
import { Connection, ReplyWithFds } from './connection.js';
import type { DeviceQueue, VhostUserDevice } from './device.js';
import { BackendStateTransfer } from './device-state.js';
import { DirtyLog } from './dirty-log.js';
import { EventFd } from './eventfd.js';
import type { ReceivedFds } from './fds.js';
import { VIRTIO_STATUS } from './frontend.js';
import { ResourceLimitError, fdsPerSession, sessionLimits, type SessionLimits } from './limits.js';
import { MemoryError, MemorySpace, type GuestRegion } from './memory.js';
import { InflightBuffer } from './inflight-session.js';
import { closeFds, isErrno, native } from './native.js';
import type { EngineName } from './ring/queues.js';
import { BackendSharedObjects } from './shared-objects.js';
import { SessionMemory } from './session-memory.js';
import { RequestRefused, SessionRing, type RingHost } from './session-ring.js';
import { UnixListener, UnixSocket } from './socket.js';

export type { DeviceQueue, VhostUserDevice };

export interface BackendOptions {
  /** Bytes of guest RAM a session maps at once (its WebAssembly.Memory, at most 4 GiB less the
   *  core's scratch). Larger guests are mapped in windows. Default 1 GiB. */
  memoryBytes?: number;
  /** Window size for guest memory that does not fit (see the README). Default 32 MiB. */
  windowBytes?: number;
  /** Ring core: vring's WebAssembly core ('wasm', default) or its TypeScript path ('ts'). */
  engine?: EngineName;
  /** Offer CONFIGURE_MEM_SLOTS (ADD/REM_MEM_REG). Default true. */
  memSlots?: boolean;
  /** Memory regions a session may hold (GET_MAX_MEM_SLOTS; enforced before mapping). Default 32. */
  maxMemSlots?: number;
  /** Connections the listening socket queues before they are accepted (default 16). */
  backlog?: number;
  /** Queued bytes, fds and sessions a front-end may cost (see limits.ts; README). */
  limits?: Partial<SessionLimits>;
  /** Offer INFLIGHT_SHMFD and track in-flight requests of split rings in the front-end's buffer.
   *  Default true. */
  inflight?: boolean;
  /** Offer VHOST_F_LOG_ALL and LOG_SHMFD and log writes while the front-end asks. Default true. */
  dirtyLog?: boolean;
  /** Offer SHARED_OBJECT (exports through `session.sharedObjects`). Default false. */
  sharedObjects?: boolean;
  /** Called with each session's protocol errors, every limit a peer hit, and accept failures. */
  onError?: (error: Error) => void;
  onSessionEnd?: (session: BackendSession) => void;
  /** Sees every request before it is handled (for logs and tests). */
  trace?: (request: DecodedRequest<'frontend'>) => void;
  /** Aborting closes the back-end (as close() does). */
  signal?: AbortSignal;
}

/** Protocol features this back-end implements (a device may offer fewer). */
export const BACKEND_PROTOCOL_FEATURES = featureMask(
  ProtocolFeature.VHOST_USER_PROTOCOL_F_MQ,
  ProtocolFeature.VHOST_USER_PROTOCOL_F_REPLY_ACK,
  ProtocolFeature.VHOST_USER_PROTOCOL_F_BACKEND_REQ,
  ProtocolFeature.VHOST_USER_PROTOCOL_F_RESET_DEVICE,
  ProtocolFeature.VHOST_USER_PROTOCOL_F_STATUS,
  ProtocolFeature.VHOST_USER_PROTOCOL_F_CONFIG,
  ProtocolFeature.VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS,
);

/** Protocol features for restart and migration, each offered when its option (or the device's
 *  state hooks) allows it. */
const MIGRATION_PROTOCOL_FEATURES = featureMask(
  ProtocolFeature.VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD,
  ProtocolFeature.VHOST_USER_PROTOCOL_F_LOG_SHMFD,
  ProtocolFeature.VHOST_USER_PROTOCOL_F_DEVICE_STATE,
  ProtocolFeature.VHOST_USER_PROTOCOL_F_SHARED_OBJECT,
);

/** Largest split or packed ring (virtio). */
const MAX_QUEUE_SIZE = 32768;

const F_PROTOCOL_FEATURES = VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES;

/** One front-end connection and the device state it drives. */
export class BackendSession implements RingHost {
  readonly conn: Connection<'frontend'>;
  private owner = false;
  /** Acked virtio features (SET_FEATURES). */
  features = 0n;
  protocolFeatures = 0n;
  status = 0;
  private readonly rings: SessionRing[];
  private backendChannel: Connection<'backend'> | undefined;
  ended = false;
  /** Contained memory faults already reported (native.guardFaults counts them). */
  private faultsSeen = 0;
  private readonly limits: SessionLimits;
  /** The inflight buffer (GET_INFLIGHT_FD / SET_INFLIGHT_FD). */
  inflight: InflightBuffer | undefined;
  /** The dirty log (SET_LOG_BASE) and the eventfd of SET_LOG_FD, kept but never needed. */
  private log: DirtyLog | undefined;
  private logFd: EventFd | undefined;
  /** Device state transfer, when the device can save and load its state. */
  private readonly stateTransfer: BackendStateTransfer | undefined;
  /** What this back-end exports (SHARED_OBJECT_ADD/REMOVE/LOOKUP, GET_SHARED_OBJECT). */
  readonly sharedObjects = new BackendSharedObjects(() => this.backendChannel);

  /** The ring core's view of guest memory: its regions table and scratch arena. */
  readonly guest: GuestMemory;
  readonly space: MemorySpace;
  /** The regions the front-end shared and where they are mapped. */
  readonly memory: SessionMemory;
  readonly engine: EngineName;

  constructor(
    socket: UnixSocket,
    readonly device: VhostUserDevice,
    private readonly options: BackendOptions,
    private readonly onEnd: (s: BackendSession) => void,
  ) {
    // One memory per session: the ring core's scratch arena only grows, so it is not reused.
    this.guest = GuestMemory.create({ guestBytes: options.memoryBytes ?? 1 << 30, scratchBytes: 4 << 20 });
    this.space = new MemorySpace({ memory: this.guest.memory, reservedBytes: this.guest.scratchEnd });
    this.memory = new SessionMemory({
      space: this.space,
      guest: this.guest,
      maxRegions: options.maxMemSlots ?? 32,
      windowBytes: options.windowBytes ?? 32 << 20,
    });
    this.engine = options.engine ?? 'wasm';
    this.rings = Array.from({ length: device.queueCount }, (_, i) => new SessionRing(i, this));
    this.limits = sessionLimits(options.limits);
    const { saveState, loadState } = device;
    if (saveState && loadState)
      this.stateTransfer = new BackendStateTransfer({
        saveState: () => saveState.call(device),
        loadState: (state) => loadState.call(device, state),
      });
    this.conn = new Connection(socket, {
      channel: 'frontend',
      onRequest: (req, fds) => this.dispatch(req, fds),
      onProtocolError: (error) => this.onProtocolError(error),
      onClose: (error) => {
        if (error instanceof ResourceLimitError) this.options.onError?.(error);
        this.end();
      },
      maxFdsPerMessage: this.limits.maxFdsPerMessage,
      fdBudget: { max: fdsPerSession(this.limits, device.queueCount), held: () => this.heldFds() },
    });
  }

  /** Fds this session keeps: ring eventfds and the back-end channel (region fds are closed
   *  once mapped). */
  private heldFds(): number {
    let held = this.backendChannel && !this.backendChannel.isClosed ? 1 : 0;
    for (const ring of this.rings) held += (ring.kick ? 1 : 0) + (ring.call ? 1 : 0) + (ring.err ? 1 : 0);
    if (this.logFd) held++;
    return held;
  }

  /** The core's regions table (whole regions, then windows), as memory offsets. */
  get regions(): { readonly list: readonly GuestRegion[] } {
    return { list: this.memory.list };
  }

  reportError(error: Error): void {
    this.options.onError?.(error);
  }

  /** A ring broke: the device needs a reset until the front-end sets it up again. */
  deviceNeedsReset(): void {
    this.status |= VIRTIO_STATUS.NEEDS_RESET;
  }

  chainReturned(): void {
    if (this.memory.windowed) for (const ring of this.rings) ring.retryIfStarved();
  }

  get offeredFeatures(): bigint {
    const logging = (this.options.dirtyLog ?? true) ? featureMask(VirtioFeature.VHOST_F_LOG_ALL) : 0n;
    return this.device.features | featureMask(F_PROTOCOL_FEATURES) | logging;
  }

  /** Hook (dirty log): the log rings write to, while VHOST_F_LOG_ALL is acked and one is mapped. */
  get activeLog(): DirtyLog | undefined {
    return this.log && hasFeature(this.features, VirtioFeature.VHOST_F_LOG_ALL) ? this.log : undefined;
  }

  /** Restart and migration features this session can honour. */
  private get migrationFeatures(): bigint {
    const bits: number[] = [];
    if (this.options.inflight ?? true) bits.push(ProtocolFeature.VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD);
    if (this.options.dirtyLog ?? true) bits.push(ProtocolFeature.VHOST_USER_PROTOCOL_F_LOG_SHMFD);
    if (this.stateTransfer) bits.push(ProtocolFeature.VHOST_USER_PROTOCOL_F_DEVICE_STATE);
    if (this.options.sharedObjects) bits.push(ProtocolFeature.VHOST_USER_PROTOCOL_F_SHARED_OBJECT);
    return featureMask(...bits);
  }

  get offeredProtocolFeatures(): bigint {
    const implemented = BACKEND_PROTOCOL_FEATURES | this.migrationFeatures;
    let offer = this.device.protocolFeatures ?? implemented;
    if (!this.device.getConfig) offer &= ~featureMask(ProtocolFeature.VHOST_USER_PROTOCOL_F_CONFIG);
    if (!(this.options.memSlots ?? true))
      offer &= ~featureMask(ProtocolFeature.VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS);
    return offer & implemented;
  }

  /** Sends a request on the back-end channel (needs BACKEND_REQ and the channel). */
  async backendRequest(message: RequestOf<'backend'>): Promise<void> {
    if (!this.backendChannel) throw new RequestRefused('no back-end channel');
    await this.backendChannel.request(message);
  }

  private onProtocolError(error: Error): void {
    this.options.onError?.(error);
    // A request that failed was answered with a failure status; unknown ids are skipped (the
    // stream is still in sync). Bytes that do not decode mean the peer does not speak the
    // protocol: drop it.
    if (isVhostUserError(error) && error.code !== 'UNKNOWN_REQUEST') this.conn.close(error);
  }

  private ring(index: number): SessionRing {
    const ring = this.rings[index];
    if (!ring) throw new RequestRefused(`ring ${index} does not exist (${this.rings.length} queues)`);
    return ring;
  }

  /** Gating by negotiated features, from the message tables. */
  private checkGating(req: DecodedRequest<'frontend'>): void {
    const info = messageInfo('frontend', req.id);
    if (!info) return;
    for (const bit of info.protocolFeatures) {
      if (!hasFeature(this.protocolFeatures, bit))
        throw new RequestRefused(`${req.name} needs protocol feature bit ${bit}, not negotiated`);
    }
    for (const bit of info.virtioFeatures) {
      // Bit 30 is offered, not acked, before GET/SET_PROTOCOL_FEATURES and SET_VRING_ENABLE.
      const mask = bit === F_PROTOCOL_FEATURES ? this.offeredFeatures : this.features;
      if (!hasFeature(mask, bit)) throw new RequestRefused(`${req.name} needs virtio feature bit ${bit}`);
    }
  }

  private async dispatch(req: DecodedRequest<'frontend'>, fds: ReceivedFds): Promise<unknown> {
    if (this.ended) throw new RequestRefused('the session has ended');
    this.options.trace?.(req);
    this.checkGating(req);
    switch (req.name) {
      case 'VHOST_USER_GET_FEATURES':
        return { value: this.offeredFeatures };
      case 'VHOST_USER_SET_FEATURES': {
        const unknown = req.payload.value & ~this.offeredFeatures;
        if (unknown !== 0n) throw new RequestRefused(`SET_FEATURES acks bits never offered: 0x${unknown.toString(16)}`);
        this.features = req.payload.value;
        return undefined;
      }
      case 'VHOST_USER_GET_PROTOCOL_FEATURES':
        return { value: this.offeredProtocolFeatures };
      case 'VHOST_USER_SET_PROTOCOL_FEATURES':
        // Unknown bits are ignored: the front-end may only choose offered ones.
        this.protocolFeatures = req.payload.value & this.offeredProtocolFeatures;
        this.conn.protocolFeatures = this.protocolFeatures;
        return undefined;
      case 'VHOST_USER_SET_OWNER':
        this.owner = true;
        return undefined;
      case 'VHOST_USER_RESET_OWNER':
        // Deprecated: only disables the rings; features, memory and ring setup stay.
        for (const ring of this.rings) {
          ring.halt();
          ring.enabled = false;
        }
        return undefined;
      case 'VHOST_USER_RESET_DEVICE':
        this.resetDevice();
        return undefined;
      case 'VHOST_USER_GET_QUEUE_NUM':
        return { value: BigInt(this.rings.length) };
      case 'VHOST_USER_GET_MAX_MEM_SLOTS':
        return { value: BigInt(this.options.maxMemSlots ?? 32) };
      case 'VHOST_USER_SET_MEM_TABLE':
        await this.memory.replace(req.payload.regions, fds.takeAll());
        this.memoryChanged();
        return undefined;
      case 'VHOST_USER_ADD_MEM_REG':
        this.memory.add(req.payload.region, fds.take());
        this.memoryChanged();
        return undefined;
      case 'VHOST_USER_REM_MEM_REG':
        if (!this.memory.remove(req.payload.region)) throw new RequestRefused('REM_MEM_REG names no mapped region');
        this.memoryChanged();
        return undefined;
      case 'VHOST_USER_SET_VRING_NUM': {
        const { index, num } = req.payload;
        const packed = hasFeature(this.features, VirtioFeature.VIRTIO_F_RING_PACKED);
        const max = Math.min(this.device.maxQueueSize ?? MAX_QUEUE_SIZE, MAX_QUEUE_SIZE);
        if (num === 0 || num > max || (!packed && (num & (num - 1)) !== 0))
          throw new RequestRefused(`ring size ${num} is not ${packed ? 'a size' : 'a power of two'} up to ${max}`);
        this.ring(index).num = num;
        return undefined;
      }
      case 'VHOST_USER_SET_VRING_BASE': {
        // Split: the next available index. Packed: both indexes with their wrap counters.
        const packed = hasFeature(this.features, VirtioFeature.VIRTIO_F_RING_PACKED);
        this.ring(req.payload.index).base = packed ? req.payload.num : req.payload.num & 0xffff;
        return undefined;
      }
      case 'VHOST_USER_SET_VRING_ADDR': {
        const p = req.payload;
        const addrs = [p.descriptor, p.available, p.used].map(Number);
        if (!addrs.every(Number.isSafeInteger)) throw new RequestRefused('ring address at or above 2^53');
        const log = Number(p.log);
        this.ring(p.index).setAddr(
          { desc: addrs[0]!, avail: addrs[1]!, used: addrs[2]! },
          p.flags,
          Number.isSafeInteger(log) ? log : 0,
        );
        return undefined;
      }
      case 'VHOST_USER_SET_VRING_KICK': {
        const value = req.payload.value;
        const nofd = (value & BigInt(VHOST_USER_VRING_NOFD_MASK)) !== 0n;
        const ring = this.ring(Number(value & BigInt(VHOST_USER_VRING_IDX_MASK)));
        // Without protocol features a ring is enabled when it starts; with them SET_VRING_ENABLE decides.
        ring.start(nofd ? undefined : fds.take(), !hasFeature(this.features, F_PROTOCOL_FEATURES));
        this.checkFaults();
        return undefined;
      }
      case 'VHOST_USER_SET_VRING_CALL':
      case 'VHOST_USER_SET_VRING_ERR': {
        const index = Number(req.payload.value & BigInt(VHOST_USER_VRING_IDX_MASK));
        const ring = this.ring(index);
        const fd =
          (req.payload.value & BigInt(VHOST_USER_VRING_NOFD_MASK)) !== 0n ? undefined : new EventFd(fds.take());
        if (req.name === 'VHOST_USER_SET_VRING_CALL') {
          ring.call?.close();
          ring.call = fd;
        } else {
          ring.err?.close();
          ring.err = fd;
        }
        return undefined;
      }
      case 'VHOST_USER_SET_VRING_ENABLE': {
        const ring = this.ring(req.payload.index);
        ring.enabled = req.payload.num !== 0;
        if (ring.enabled) ring.run();
        return undefined;
      }
      case 'VHOST_USER_GET_VRING_BASE': {
        const index = req.payload.index;
        return { index, num: await this.ring(index).stop() };
      }
      case 'VHOST_USER_SET_BACKEND_REQ_FD': {
        this.backendChannel?.close();
        this.backendChannel = new Connection(new UnixSocket(fds.take(), this.limits), {
          channel: 'backend',
          onProtocolError: (e) => this.options.onError?.(e),
        });
        this.backendChannel.protocolFeatures = this.protocolFeatures;
        return undefined;
      }
      case 'VHOST_USER_GET_CONFIG': {
        const { offset, data } = req.payload;
        const out = this.device.getConfig?.(offset, data.length);
        if (!out || out.length !== data.length)
          throw new RequestRefused(`config window ${offset}+${data.length} not available`);
        return { offset, flags: req.payload.flags, data: out };
      }
      case 'VHOST_USER_SET_CONFIG':
        if (!this.device.setConfig) throw new RequestRefused('config space is read-only');
        this.device.setConfig(req.payload.offset, req.payload.data);
        return undefined;
      case 'VHOST_USER_SET_STATUS':
        this.status = Number(req.payload.value & 0xffn);
        // Status 0 resets the device, but QEMU sends it *before* stopping the rings with
        // GET_VRING_BASE, which must still report the real positions: rings are left alone.
        if (this.status === 0) this.device.reset?.();
        return undefined;
      case 'VHOST_USER_GET_STATUS':
        return { value: BigInt(this.status) };
      // Hook (inflight): the buffer lives in inflight-session.ts; rings track in it.
      case 'VHOST_USER_GET_INFLIGHT_FD': {
        const packed = hasFeature(this.features, VirtioFeature.VIRTIO_F_RING_PACKED);
        const { buffer, description, fd } = InflightBuffer.allocate(req.payload, packed);
        this.replaceInflight(buffer);
        return new ReplyWithFds(description, [fd]);
      }
      case 'VHOST_USER_SET_INFLIGHT_FD': {
        const packed = hasFeature(this.features, VirtioFeature.VIRTIO_F_RING_PACKED);
        const fd = fds.take();
        try {
          this.replaceInflight(InflightBuffer.map(req.payload, fd, packed));
        } finally {
          closeFds([fd]); // the mapping keeps the buffer
        }
        return undefined;
      }
      // Hook (dirty log): the bitmap lives in dirty-log.ts; rings mark what they write.
      case 'VHOST_USER_SET_LOG_BASE': {
        if (!hasFeature(this.protocolFeatures, ProtocolFeature.VHOST_USER_PROTOCOL_F_LOG_SHMFD))
          throw new RequestRefused('SET_LOG_BASE without LOG_SHMFD: there is no log to map');
        const fd = fds.take();
        let log: DirtyLog;
        try {
          log = DirtyLog.map(req.payload, fd);
        } finally {
          closeFds([fd]); // the mapping keeps the log
        }
        this.log?.close();
        this.log = log;
        return { value: 0n };
      }
      case 'VHOST_USER_SET_LOG_FD':
        this.logFd?.close();
        this.logFd = new EventFd(fds.take());
        return undefined;
      // Hook (device state): device-state.ts.
      case 'VHOST_USER_SET_DEVICE_STATE_FD': {
        if (!this.stateTransfer) throw new RequestRefused('this device has no state to transfer');
        const suspended = this.rings.every((r) => !r.started);
        return { value: this.stateTransfer.open(req.payload, fds.take(), suspended) };
      }
      case 'VHOST_USER_CHECK_DEVICE_STATE': {
        if (!this.stateTransfer) throw new RequestRefused('this device has no state to transfer');
        const value = await this.stateTransfer.check((e) => this.options.onError?.(e));
        return { value };
      }
      // Hook (shared objects): shared-objects.ts.
      case 'VHOST_USER_GET_SHARED_OBJECT':
        return this.sharedObjects.answer(req.payload.uuid);
      default:
        throw new RequestRefused(`${req.name} is not supported by this back-end`);
    }
  }

  /** The regions changed: rings translate their areas again, the device hears of it. */
  private memoryChanged(): void {
    for (const ring of this.rings) ring.memoryChanged();
    this.checkFaults();
    this.device.memoryChanged?.(this.memory.list);
  }

  /** A region's file shrank under its mapping and an access was contained (a zero page was put
   *  over the lost one): this session's memory can no longer be trusted, so its rings fail. */
  checkFaults(): void {
    const faults = native.guardFaults(this.guest.u8);
    const fresh = faults > this.faultsSeen;
    this.faultsSeen = faults; // falls when a faulted range is unmapped
    if (!fresh) return;
    this.options.onError?.(
      new MemoryError(
        'FAULT',
        'guest memory access past the end of a region file (the front-end shrank it): every ring is stopped',
      ),
    );
    for (const ring of this.rings) if (ring.started) ring.fail(new MemoryError('FAULT', `ring ${ring.index} stopped`));
  }

  private replaceInflight(buffer: InflightBuffer): void {
    this.inflight?.close();
    this.inflight = buffer;
    for (const ring of this.rings) ring.inflightReplaced();
  }

  /** RESET_DEVICE: every ring disabled, stopped and back to its initial setup, status 0 (a reset
   *  device starts over, DEVICE_NEEDS_RESET cleared), the inflight buffer dropped (its requests
   *  are void); ownership, features and memory stay. */
  private resetDevice(): void {
    for (const ring of this.rings) ring.reset();
    this.status = 0;
    this.inflight?.close();
    this.inflight = undefined;
    this.sharedObjects.clear();
    this.device.reset?.();
  }

  /** Everything the session holds is released: fds, mappings, the back-end channel. */
  private end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const ring of this.rings) ring.close();
    this.backendChannel?.close();
    this.inflight?.close();
    this.inflight = undefined;
    this.log?.close();
    this.log = undefined;
    this.logFd?.close();
    this.logFd = undefined;
    this.sharedObjects.clear();
    this.device.reset?.();
    // Guest memory stays mapped until the device finished the I/O it started into it.
    this.disposed = (async () => {
      try {
        await this.device.dispose?.();
      } catch (error) {
        this.options.onError?.(error as Error);
      }
      this.memory.clear();
    })();
    this.onEnd(this);
  }

  /** Settles once the device released what it holds (after the session ended). */
  disposed: Promise<void> = Promise.resolve();

  close(): void {
    this.conn.close();
  }

  /** A ring's state as the front-end set it (base is what GET_VRING_BASE last reported). */
  ringState(index: number): { num: number; base: number; started: boolean; enabled: boolean; position: number } {
    const ring = this.ring(index);
    return {
      num: ring.num,
      base: ring.base,
      started: ring.started,
      enabled: ring.enabled,
      position: ring.position,
    };
  }

  get isOwned(): boolean {
    return this.owner;
  }
}

/** Listens on a Unix socket and runs one session per front-end connection. Nothing happens
 *  until `listen()`; `close()` (or the `signal` option) stops listening and ends every session. */
export class VhostUserBackend {
  private listener: UnixListener | undefined;
  readonly sessions = new Set<BackendSession>();
  private closing: Promise<void> | undefined;
  private readonly limits: SessionLimits;

  constructor(
    readonly path: string,
    private readonly createDevice: () => VhostUserDevice,
    private readonly options: BackendOptions = {},
  ) {
    this.limits = sessionLimits(options.limits);
  }

  /** A back-end already listening on `path`. */
  static async listen(
    path: string,
    createDevice: () => VhostUserDevice,
    options: BackendOptions = {},
  ): Promise<VhostUserBackend> {
    const backend = new VhostUserBackend(path, createDevice, options);
    await backend.listen();
    return backend;
  }

  get listening(): boolean {
    return this.listener !== undefined;
  }

  /**
   * Starts accepting front-ends. A socket left at the path by a process that is gone is
   * replaced; anything else there (a file, a socket someone listens on) is an error.
   */
  async listen(): Promise<void> {
    if (this.listener) return;
    if (this.closing) throw new Error(`the back-end for ${this.path} was closed; create a new one`);
    const { signal } = this.options;
    signal?.throwIfAborted();
    removeStaleSocket(this.path);
    this.listener = new UnixListener(this.path, (socket) => this.accept(socket), {
      replace: false,
      backlog: this.options.backlog,
      socketLimits: this.limits,
      onError: this.options.onError,
    });
    signal?.addEventListener('abort', () => void this.close(), { once: true });
  }

  private accept(socket: UnixSocket): void {
    if (this.sessions.size >= this.limits.maxSessions) {
      socket.close();
      this.options.onError?.(
        new ResourceLimitError(
          'SESSIONS',
          `a front-end connected to ${this.path} while ${this.sessions.size} sessions ran (limit ${this.limits.maxSessions}); closed it`,
        ),
      );
      return;
    }
    let device: VhostUserDevice;
    try {
      device = this.createDevice();
    } catch (error) {
      socket.close();
      this.options.onError?.(error as Error);
      return;
    }
    const session = new BackendSession(socket, device, this.options, (s) => {
      this.sessions.delete(s);
      this.options.onSessionEnd?.(s);
    });
    this.sessions.add(session);
  }

  /** Stops listening, removes the socket, ends every session; settles when devices are disposed. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const listener = this.listener;
      this.listener = undefined;
      if (listener) {
        listener.close();
        removeStaleSocket(this.path);
      }
      const sessions = [...this.sessions];
      for (const s of sessions) s.close();
      await Promise.all(sessions.map((s) => s.disposed));
    })();
    return this.closing;
  }
}

/** Removes a socket nobody listens on at `path`; refuses to touch anything else. */
function removeStaleSocket(path: string): void {
  let stat;
  try {
    stat = lstatSync(path);
  } catch {
    return; // nothing there
  }
  if (!stat.isSocket())
    throw Object.assign(new Error(`${path} exists and is not a socket: not removing it (choose another path)`), {
      code: 'EEXIST',
    });
  let fd = -1;
  try {
    fd = native.connect(path);
  } catch (error) {
    if (isErrno(error, 'ECONNREFUSED')) {
      unlinkSync(path); // a socket left by a process that is gone
      return;
    }
    throw error;
  }
  closeFds([fd]);
  throw Object.assign(new Error(`${path}: another back-end is listening there`), { code: 'EADDRINUSE' });
}
