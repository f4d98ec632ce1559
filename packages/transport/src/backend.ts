/**
 * vhost-user back-end: listens, accepts front-ends one session per connection, and runs the
 * spec's state machine: feature negotiation and gating, ownership, memory regions mapped from
 * the front-end's fds into a MemorySpace (also replaced live while rings run), rings that start
 * on SET_VRING_KICK, are enabled by SET_VRING_ENABLE (when protocol features are negotiated)
 * and stop on GET_VRING_BASE. A device implements `VhostUserDevice`; the back-end drives it.
 * A misbehaving peer costs its own connection, never the process or the next session.
 */
import {
  ProtocolFeature,
  SPLIT_RING_AREAS,
  VHOST_USER_VRING_IDX_MASK,
  VHOST_USER_VRING_NOFD_MASK,
  VirtioFeature,
  VringAddrFlags,
  featureMask,
  hasFeature,
  isVhostUserError,
  messageInfo,
  type DecodedRequest,
  type MemoryRegion,
  type RequestOf,
} from '@vhost-user/codec';
import { Connection, ReplyWithFds } from './connection.js';
import { EventFd } from './eventfd.js';
import type { ReceivedFds } from './fds.js';
import { GuestRegions, MemorySpace, type GuestRegion, type MappedRange } from './memory.js';
import { closeFds } from './native.js';
import { UnixListener, UnixSocket } from './socket.js';
import { GuestMemory } from '@vhost-user/vring';
import { DeviceRing, type Chain, type EngineName } from './ring/queues.js';
import { InflightBuffer, SplitInflightTracker } from './inflight-session.js';
import { readSplitChain } from './ring/split-chain.js';
import { DirtyLog, DirtyLogError, RingWriteLogger, type RingLogTarget } from './dirty-log.js';
import { BackendStateTransfer, type DeviceStateOwner } from './device-state.js';
import { BackendSharedObjects } from './shared-objects.js';

/** What a device implementation provides. */
export interface VhostUserDevice {
  /** Virtio features offered (device bits, VERSION_1...); VHOST_USER_F_PROTOCOL_FEATURES is added. */
  readonly features: bigint;
  readonly queueCount: number;
  /** Config space reads (GET_CONFIG). Absent: CONFIG is not offered. */
  getConfig?(offset: number, size: number): Uint8Array;
  setConfig?(offset: number, data: Uint8Array): void;
  /** Chains were made available on a started, enabled ring: use them with `queue.pop/push`. */
  process(queue: DeviceQueue): void;
  /** The driver reset the device (RESET_DEVICE, status 0, or the session ended). */
  reset?(): void;
  /** The session ended: release what the device holds. */
  dispose?(): void;
  /** Device state transfer (DEVICE_STATE is offered when both are present): device-state.ts. */
  saveState?: DeviceStateOwner['saveState'];
  loadState?: DeviceStateOwner['loadState'];
}

/** A ring as a device sees it: take chains, return them, notify the driver. */
export interface DeviceQueue {
  readonly index: number;
  /** The memory where guest RAM is mapped (segments are offsets into it). */
  readonly bytes: Uint8Array;
  pop(): Chain | null;
  /** Returns a chain with `written` bytes; the driver is notified by `notify()`. */
  push(head: number, written: number): void;
  /** Signals the call eventfd if the driver wants interrupts. */
  notify(): void;
}

export interface BackendOptions {
  /** Bytes of guest RAM a session can map (its WebAssembly.Memory). Default 1 GiB. */
  memoryBytes?: number;
  /** Ring core: vring's WebAssembly core ('wasm', default) or its TypeScript path ('ts'). */
  engine?: EngineName;
  /** Offer CONFIGURE_MEM_SLOTS (ADD/REM_MEM_REG). Default true. */
  memSlots?: boolean;
  maxMemSlots?: number;
  /** Offer INFLIGHT_SHMFD and track in-flight requests in the front-end's buffer. Default true. */
  inflight?: boolean;
  /** Offer VHOST_F_LOG_ALL and LOG_SHMFD and log writes while the front-end asks. Default true. */
  dirtyLog?: boolean;
  /** Offer SHARED_OBJECT (exports through `session.sharedObjects`). Default false. */
  sharedObjects?: boolean;
  /** Called with each session's protocol errors (for logs and tests). */
  onError?: (error: Error) => void;
  onSessionEnd?: (session: BackendSession) => void;
  /** Sees every request before it is handled (for logs and tests). */
  trace?: (request: DecodedRequest<'frontend'>) => void;
}

interface RingState {
  num: number;
  base: number;
  addr: { desc: number; avail: number; used: number } | undefined;
  kick: EventFd | undefined;
  call: EventFd | undefined;
  err: EventFd | undefined;
  started: boolean;
  enabled: boolean;
  queue: DeviceRing | undefined;
  /** Region table generation the queue was built against. */
  generation: number;
  /** Records the ring's requests in the inflight buffer (from its first use after a start). */
  tracker: SplitInflightTracker | undefined;
  /** SET_VRING_ADDR's flags and log address (VHOST_VRING_F_LOG: log the used ring there). */
  addrFlags: number;
  logAddr: number;
  /** Marks the pages the device writes while logging is on. */
  writes: RingWriteLogger;
}

interface MappedRegion {
  region: GuestRegion;
  range: MappedRange;
  description: MemoryRegion;
}

const F_PROTOCOL_FEATURES = VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES;

class RequestRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RequestRefused';
  }
}

/** One front-end connection and the device state it drives. */
export class BackendSession {
  readonly conn: Connection<'frontend'>;
  private owner = false;
  /** Acked virtio features (SET_FEATURES). */
  features = 0n;
  protocolFeatures = 0n;
  status = 0;
  readonly regions = new GuestRegions();
  private mapped: MappedRegion[] = [];
  private readonly rings: RingState[];
  private backendChannel: Connection<'backend'> | undefined;
  private ended = false;
  /** The inflight buffer (GET_INFLIGHT_FD / SET_INFLIGHT_FD). */
  private inflight: InflightBuffer | undefined;
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

  constructor(
    socket: UnixSocket,
    readonly device: VhostUserDevice,
    private readonly options: BackendOptions,
    private readonly onEnd: (s: BackendSession) => void,
  ) {
    // One memory per session: the ring core's scratch arena only grows, so it is not reused.
    this.guest = GuestMemory.create({ guestBytes: options.memoryBytes ?? 1 << 30, scratchBytes: 4 << 20 });
    this.space = new MemorySpace({ memory: this.guest.memory, reservedBytes: this.guest.scratchEnd });
    this.rings = Array.from({ length: device.queueCount }, (_, index) => ({
      num: 0,
      base: 0,
      addr: undefined,
      kick: undefined,
      call: undefined,
      err: undefined,
      started: false,
      enabled: false,
      queue: undefined,
      generation: -1,
      tracker: undefined,
      addrFlags: 0,
      logAddr: 0,
      writes: new RingWriteLogger(
        (offset) => this.gpaOfOffset(offset),
        () => this.logTarget(index),
      ),
    }));
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
      onClose: () => this.end(),
    });
  }

  get offeredFeatures(): bigint {
    const logging = (this.options.dirtyLog ?? true) ? featureMask(VirtioFeature.VHOST_F_LOG_ALL) : 0n;
    return this.device.features | featureMask(F_PROTOCOL_FEATURES) | logging;
  }

  get offeredProtocolFeatures(): bigint {
    const bits: number[] = [
      ProtocolFeature.MQ,
      ProtocolFeature.REPLY_ACK,
      ProtocolFeature.BACKEND_REQ,
      ProtocolFeature.RESET_DEVICE,
      ProtocolFeature.STATUS,
    ];
    if (this.device.getConfig) bits.push(ProtocolFeature.CONFIG);
    if (this.options.memSlots ?? true) bits.push(ProtocolFeature.CONFIGURE_MEM_SLOTS);
    if (this.options.inflight ?? true) bits.push(ProtocolFeature.INFLIGHT_SHMFD);
    if (this.options.dirtyLog ?? true) bits.push(ProtocolFeature.LOG_SHMFD);
    if (this.stateTransfer) bits.push(ProtocolFeature.DEVICE_STATE);
    if (this.options.sharedObjects) bits.push(ProtocolFeature.SHARED_OBJECT);
    return featureMask(...bits);
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

  private ring(index: number): RingState {
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

  private dispatch(req: DecodedRequest<'frontend'>, fds: ReceivedFds): unknown {
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
          this.stopRing(ring);
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
        this.setMemTable(req.payload.regions, fds);
        return undefined;
      case 'VHOST_USER_ADD_MEM_REG':
        this.addRegion(req.payload.region, fds.take());
        return undefined;
      case 'VHOST_USER_REM_MEM_REG':
        this.removeRegion(req.payload.region);
        return undefined;
      case 'VHOST_USER_SET_VRING_NUM': {
        const { index, num } = req.payload;
        if (num === 0 || num > 32768 || (num & (num - 1)) !== 0)
          throw new RequestRefused(`ring size ${num} is not a power of two up to 32768`);
        this.ring(index).num = num;
        return undefined;
      }
      case 'VHOST_USER_SET_VRING_BASE':
        this.ring(req.payload.index).base = req.payload.num & 0xffff;
        return undefined;
      case 'VHOST_USER_SET_VRING_ADDR': {
        const p = req.payload;
        const ring = this.ring(p.index);
        ring.addr = { desc: Number(p.descriptor), avail: Number(p.available), used: Number(p.used) };
        ring.addrFlags = p.flags;
        ring.logAddr = Number(p.log);
        // Re-created from the new addresses on next use, from where it is now: QEMU re-sends the
        // addresses of running rings to turn used-ring logging on and off during migration.
        if (ring.queue) ring.base = ring.queue.base;
        if (ring.started) ring.queue = undefined;
        return undefined;
      }
      case 'VHOST_USER_SET_VRING_KICK':
        this.setKick(req.payload.value, fds);
        return undefined;
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
        if (ring.enabled) this.run(req.payload.index);
        return undefined;
      }
      case 'VHOST_USER_GET_VRING_BASE': {
        const index = req.payload.index;
        const ring = this.ring(index);
        const num = ring.queue ? ring.queue.base : ring.base;
        this.stopRing(ring);
        ring.base = num;
        return { index, num };
      }
      case 'VHOST_USER_SET_BACKEND_REQ_FD': {
        this.backendChannel?.close();
        this.backendChannel = new Connection(new UnixSocket(fds.take()), {
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
      // Hook (inflight): the buffer lives in inflight-session.ts.
      case 'VHOST_USER_GET_INFLIGHT_FD': {
        const packed = hasFeature(this.features, VirtioFeature.VIRTIO_F_RING_PACKED);
        const { buffer, description, fd } = InflightBuffer.allocate(req.payload, packed);
        this.replaceInflight(buffer);
        return new ReplyWithFds(description, [fd]);
      }
      // Hook (dirty log): the bitmap lives in dirty-log.ts.
      case 'VHOST_USER_SET_LOG_BASE': {
        if (!hasFeature(this.protocolFeatures, ProtocolFeature.LOG_SHMFD))
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
        const suspended = this.rings.every((r) => !r.started);
        return { value: (this.stateTransfer as BackendStateTransfer).open(req.payload, fds.take(), suspended) };
      }
      case 'VHOST_USER_CHECK_DEVICE_STATE':
        return (this.stateTransfer as BackendStateTransfer)
          .check((e) => this.options.onError?.(e))
          .then((value) => ({ value }));
      // Hook (shared objects): shared-objects.ts.
      case 'VHOST_USER_GET_SHARED_OBJECT':
        return this.sharedObjects.answer(req.payload.uuid);
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
      default:
        throw new RequestRefused(`${req.name} is not supported by this back-end`);
    }
  }

  private setKick(value: bigint, fds: ReceivedFds): void {
    const index = Number(value & BigInt(VHOST_USER_VRING_IDX_MASK));
    const ring = this.ring(index);
    const nofd = (value & BigInt(VHOST_USER_VRING_NOFD_MASK)) !== 0n;
    ring.kick?.close();
    ring.kick = nofd ? undefined : new EventFd(fds.take());
    if (!ring.addr || ring.num === 0) throw new RequestRefused(`ring ${index} started before its size and addresses`);
    ring.queue = undefined;
    ring.tracker = undefined;
    ring.started = true;
    // Without protocol features a ring is enabled when it starts; with them SET_VRING_ENABLE decides.
    if (!hasFeature(this.features, F_PROTOCOL_FEATURES)) ring.enabled = true;
    ring.kick?.watch(() => this.run(index));
    this.run(index);
  }

  /** The ring's queue on the ring core, (re)built when the region table changed. */
  private queueOf(ring: RingState): DeviceRing | undefined {
    if (ring.queue && ring.generation === this.regions.generation) return ring.queue;
    if (!ring.addr || this.regions.list.length === 0) return undefined;
    const base = ring.queue ? ring.queue.base : ring.base;
    const size = ring.num;
    const gpa = (user: number, length: number) => {
      const g = this.regions.guestOfUser(user, length);
      if (g < 0) throw new RequestRefused(`ring address 0x${user.toString(16)} is in no region`);
      return g;
    };
    const a = SPLIT_RING_AREAS;
    ring.queue = DeviceRing.create(this.guest, {
      size,
      desc: gpa(ring.addr.desc, a.descriptorTable.size(size)),
      avail: gpa(ring.addr.avail, a.availableRing.size(size)),
      used: gpa(ring.addr.used, a.usedRing.size(size)),
      base,
      engine: this.options.engine ?? 'wasm',
      indirect: hasFeature(this.features, VirtioFeature.VIRTIO_F_INDIRECT_DESC),
      eventIdx: hasFeature(this.features, VirtioFeature.VIRTIO_F_EVENT_IDX),
    });
    ring.generation = this.regions.generation;
    if (this.inflight && !ring.tracker) ring.tracker = this.takeOverInflight(ring, ring.queue, gpa(ring.addr.desc, 1));
    return ring.queue;
  }

  /** Hook (inflight): the first use of a started ring takes over what its region holds in flight. */
  private takeOverInflight(ring: RingState, queue: DeviceRing, descGpa: number): SplitInflightTracker {
    const inflight = this.inflight as InflightBuffer;
    const index = this.rings.indexOf(ring);
    const region = inflight.splitRegion(index);
    if (region.queueSize !== ring.num)
      throw new RequestRefused(
        `inflight buffer has ${region.queueSize} entries per queue, ring ${index} has ${ring.num}`,
      );
    const wasInUse = region.version !== 0;
    const heads = region.takeOver(queue.usedIndex);
    // After a crash the front-end can only send used.idx as the base: the next request to fetch
    // is past the ones still in flight.
    if (wasInUse) queue.queue.setBase((queue.usedIndex + heads.length) & 0xffff);
    const table = {
      desc: descGpa,
      size: ring.num,
      indirect: hasFeature(this.features, VirtioFeature.VIRTIO_F_INDIRECT_DESC),
    };
    return new SplitInflightTracker(
      region,
      heads.map((head) => readSplitChain(this.guest, table, head)),
    );
  }

  /** Hook (dirty log): where ring `index` logs now; undefined unless LOG_ALL is acked and a log is mapped. */
  private logTarget(index: number): RingLogTarget | undefined {
    if (!this.log || !hasFeature(this.features, VirtioFeature.VHOST_F_LOG_ALL)) return undefined;
    const ring = this.rings[index];
    if (!ring) return undefined;
    const usedRing =
      (ring.addrFlags & VringAddrFlags.VHOST_VRING_F_LOG) !== 0
        ? { gpa: ring.logAddr, bytes: SPLIT_RING_AREAS.usedRing.size(ring.num) }
        : undefined;
    return { log: this.log, usedRing };
  }

  /** Guest-physical address of an offset in the memory where guest RAM is mapped. */
  private gpaOfOffset(offset: number): number {
    for (const r of this.regions.list)
      if (offset >= r.memOffset && offset < r.memOffset + r.size) return r.guestAddr + (offset - r.memOffset);
    throw new DirtyLogError(`memory offset ${offset} is in no guest region`);
  }

  private replaceInflight(buffer: InflightBuffer): void {
    this.inflight?.close();
    this.inflight = buffer;
    for (const ring of this.rings) ring.tracker = undefined;
  }

  /** Lets the device use what the driver made available on a started, enabled ring. */
  private run(index: number): void {
    const ring = this.rings[index];
    if (!ring || !ring.started || !ring.enabled || this.ended) return;
    try {
      const queue = this.queueOf(ring);
      if (!queue) return;
      const tracker = ring.tracker; // hook (inflight): records fetches and completions
      const writes = ring.writes; // hook (dirty log): marks what the device wrote
      this.device.process({
        index,
        bytes: this.guest.u8,
        pop: () => {
          const chain = tracker ? tracker.pop(queue) : queue.pop();
          if (chain) writes.popped(chain);
          return chain;
        },
        push: (head, written) => {
          writes.pushed(head, written);
          if (tracker) tracker.push(queue, head, written);
          else queue.push(head, written);
        },
        notify: () => {
          tracker?.complete(queue);
          const wanted = queue.flush();
          writes.published();
          if (wanted) ring.call?.signal();
        },
      });
    } catch (error) {
      // A broken ring: report it on the error fd and stop using it until it is set up again.
      this.options.onError?.(error as Error);
      ring.err?.signal();
      ring.enabled = false;
    }
  }

  private stopRing(ring: RingState): void {
    if (ring.queue) ring.base = ring.queue.base; // where a restart resumes
    ring.kick?.close();
    ring.kick = undefined;
    ring.started = false;
    ring.queue = undefined;
    ring.tracker = undefined;
    ring.writes.clear();
  }

  private mapRegion(description: MemoryRegion, fd: number): MappedRegion {
    const size = Number(description.size);
    const mmapOffset = Number(description.mmapOffset);
    const guestAddr = Number(description.guestAddress);
    const userAddr = Number(description.userAddress);
    for (const v of [size, mmapOffset, guestAddr, userAddr])
      if (!Number.isSafeInteger(v)) throw new RequestRefused('region address out of range');
    const range = this.space.mapFile(fd, mmapOffset, size);
    return { range, region: { guestAddr, size, userAddr, memOffset: range.memOffset }, description };
  }

  /** Replaces the whole table: the new regions are mapped before the old ones go, so a running
   *  ring keeps working and re-translates its addresses. */
  private setMemTable(regions: MemoryRegion[], fds: ReceivedFds): void {
    const fresh: MappedRegion[] = [];
    try {
      regions.forEach((r, i) => {
        const fd = fds.take(i);
        try {
          fresh.push(this.mapRegion(r, fd));
        } finally {
          closeFds([fd]); // the mapping keeps the memory; the fd is not needed any more
        }
      });
      const table = new GuestRegions();
      for (const m of fresh) table.add(m.region);
    } catch (error) {
      for (const m of fresh) this.space.unmap(m.range);
      throw error;
    }
    const old = this.mapped;
    this.regions.clear();
    for (const m of fresh) this.regions.add(m.region);
    this.mapped = fresh;
    this.syncRegions();
    for (const m of old) this.space.unmap(m.range);
  }

  private addRegion(description: MemoryRegion, fd: number): void {
    try {
      const m = this.mapRegion(description, fd);
      try {
        this.regions.add(m.region);
      } catch (error) {
        this.space.unmap(m.range);
        throw error;
      }
      this.mapped.push(m);
      this.syncRegions();
    } finally {
      closeFds([fd]);
    }
  }

  private removeRegion(description: MemoryRegion): void {
    const match = (m: MappedRegion) =>
      m.description.guestAddress === description.guestAddress &&
      m.description.size === description.size &&
      m.description.userAddress === description.userAddress;
    const gone = this.mapped.filter(match);
    if (gone.length === 0) throw new RequestRefused('REM_MEM_REG names no mapped region');
    this.mapped = this.mapped.filter((m) => !match(m));
    this.regions.remove((r) => gone.some((m) => m.region === r));
    this.syncRegions();
    for (const m of gone) this.space.unmap(m.range);
  }

  /** Gives the ring core the new table; queues re-translate their areas on next use. */
  private syncRegions(): void {
    this.guest.setRegions(this.regions.list.map((r) => ({ gpa: r.guestAddr, size: r.size, offset: r.memOffset })));
  }

  /** RESET_DEVICE: every ring disabled, stopped and back to its initial setup, status 0, the
   *  inflight buffer dropped (its requests are void); ownership, features and memory stay. */
  private resetDevice(): void {
    for (const ring of this.rings) {
      this.stopRing(ring);
      ring.enabled = false;
      ring.base = 0;
      ring.num = 0;
      ring.addr = undefined;
      ring.addrFlags = 0;
      ring.logAddr = 0;
    }
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
    for (const ring of this.rings) {
      this.stopRing(ring);
      ring.call?.close();
      ring.err?.close();
      ring.call = ring.err = undefined;
    }
    this.backendChannel?.close();
    this.inflight?.close();
    this.inflight = undefined;
    this.log?.close();
    this.log = undefined;
    this.logFd?.close();
    this.logFd = undefined;
    this.sharedObjects.clear();
    this.regions.clear();
    this.syncRegions();
    for (const m of this.mapped) this.space.unmap(m.range);
    this.mapped = [];
    this.device.reset?.();
    this.device.dispose?.();
    this.onEnd(this);
  }

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
      position: ring.queue?.base ?? ring.base,
    };
  }

  get isOwned(): boolean {
    return this.owner;
  }
}

/** Listens on a Unix socket and runs one session per front-end connection. */
export class VhostUserBackend {
  private readonly listener: UnixListener;
  readonly sessions = new Set<BackendSession>();

  constructor(
    readonly path: string,
    private readonly createDevice: () => VhostUserDevice,
    private readonly options: BackendOptions = {},
  ) {
    this.listener = new UnixListener(path, (socket) => this.accept(socket));
  }

  private accept(socket: UnixSocket): void {
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

  close(): void {
    this.listener.close();
    for (const s of [...this.sessions]) s.close();
  }
}
