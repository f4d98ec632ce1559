/**
 * One ring of a back-end session: what the front-end set (size, base, addresses, eventfds),
 * whether it is started and enabled, its queue on the ring core, and the chains the device
 * holds. A ring starts on SET_VRING_KICK, is enabled by SET_VRING_ENABLE (or at start without
 * protocol features), runs the device when kicked, and stops on GET_VRING_BASE once the chains
 * in flight are back. Guest memory comes from the session (windows are mapped before the core
 * walks chains when some region is windowed).
 */
import { PACKED_RING_AREAS, SPLIT_RING_AREAS, VirtioFeature, VringAddrFlags, hasFeature } from '@vhost-user/codec';
import type { ChainHandler, GuestMemory } from '@vhost-user/vring';
import type { DeviceQueue, VhostUserDevice } from './device.js';
import { DirtyLogError, RingWriteLogger, type DirtyLog, type RingLogTarget } from './dirty-log.js';
import { EventFd } from './eventfd.js';
import { SplitInflightTracker, type InflightBuffer, type TrackedRing } from './inflight-session.js';
import { MemoryError } from './memory.js';
import { DeviceRing, type Chain, type EngineName } from './ring/queues.js';
import { readSplitChain } from './ring/split-chain.js';
import { ChainWindows, type Reached } from './ring/reach.js';
import type { SessionMemory, Window } from './session-memory.js';

/** What a ring needs from its session. */
export interface RingHost {
  readonly memory: SessionMemory;
  readonly guest: GuestMemory;
  readonly device: VhostUserDevice;
  readonly engine: EngineName;
  /** Negotiated virtio features. */
  readonly features: bigint;
  readonly ended: boolean;
  reportError(error: Error): void;
  /** Sets DEVICE_NEEDS_RESET in the device status (a ring broke). */
  deviceNeedsReset(): void;
  /** After each run: the session turns a contained memory fault into its error. */
  checkFaults(): void;
  /** A chain was returned: rings waiting for windows may continue. */
  chainReturned(): void;
  /** The inflight buffer (GET/SET_INFLIGHT_FD), when the front-end shared one. */
  readonly inflight: InflightBuffer | undefined;
  /** The dirty log while the front-end logs (VHOST_F_LOG_ALL acked and a log mapped). */
  readonly activeLog: DirtyLog | undefined;
}

/** SET_VRING_ADDR's three addresses, as front-end user addresses. */
export interface RingAddresses {
  desc: number;
  avail: number;
  used: number;
}

/** A request the front-end made that cannot be honoured: answered with a failure status. */
export class RequestRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RequestRefused';
  }
}

/** How long GET_VRING_BASE waits for the device to return chains in flight. */
const STOP_WAIT_MS = 5000;

export class SessionRing {
  num = 0;
  base = 0;
  /** Front-end user addresses of the three areas (SET_VRING_ADDR). */
  addr: { desc: number; avail: number; used: number } | undefined;
  kick: EventFd | undefined;
  call: EventFd | undefined;
  err: EventFd | undefined;
  started = false;
  enabled = false;
  private queue: DeviceRing | undefined;
  private packed = false;
  /** Memory generation the queue's areas were translated for. */
  private generation = -1;
  /** Guest-physical addresses of the areas (for windowed memory). */
  private areas: { desc: number; avail: number; used: number } | undefined;
  private areaWindows: (Window | null)[] = [];
  private readonly chains: ChainWindows;
  private inFlight = 0;
  private drained: (() => void)[] = [];
  /** A run stopped because every window was held: run again when a chain comes back. */
  private starved = false;
  /** Chains the device may still pop in this run (windowed memory: those whose windows are mapped). */
  private budget = Infinity;
  /** The object the device holds for this ring (stable for the session). */
  readonly view: DeviceQueue;
  /** Hook (inflight): records the ring's requests in the inflight buffer, from its first use
   *  after a start (then it also holds the requests a previous back-end left in flight). */
  private tracker: SplitInflightTracker | undefined;
  /** Hook (dirty log): SET_VRING_ADDR's flags and log address (VHOST_VRING_F_LOG: log the
   *  used ring there). */
  private addrFlags = 0;
  private logAddr = 0;
  /** Hook (dirty log): marks the pages the device writes while logging is on. */
  private readonly writes: RingWriteLogger;

  constructor(
    readonly index: number,
    private readonly host: RingHost,
  ) {
    this.chains = new ChainWindows(host.memory);
    this.view = {
      index,
      bytes: host.guest.u8,
      pop: () => this.pop(),
      push: (head, written) => this.push(head, written),
      notify: () => this.notify(),
      serve: (handler) => this.serve(handler),
    };
    this.writes = new RingWriteLogger(
      (offset) => this.gpaOfOffset(offset),
      () => this.logTarget(),
    );
  }

  /** Where the ring core is now (what GET_VRING_BASE reports). */
  get position(): number {
    return this.queue ? this.queue.base : this.base;
  }

  /** SET_VRING_ADDR. QEMU sends it again for running rings during migration, with the same
   *  addresses, to turn used-ring logging on and off: then the queue and the chains the device
   *  holds stay. New addresses re-create the queue on the next run, from where it is now. */
  setAddr(addr: RingAddresses, flags = 0, logAddr = 0): void {
    const same =
      this.addr !== undefined &&
      this.addr.desc === addr.desc &&
      this.addr.avail === addr.avail &&
      this.addr.used === addr.used;
    this.addr = addr;
    this.addrFlags = flags;
    this.logAddr = logAddr;
    if (this.queue && !same) {
      this.base = this.queue.base;
      this.dropQueue();
    }
  }

  /** RESET_DEVICE: back to the ring's initial setup. */
  reset(): void {
    this.halt();
    this.enabled = false;
    this.base = 0;
    this.num = 0;
    this.addr = undefined;
    this.addrFlags = 0;
    this.logAddr = 0;
  }

  /** A new inflight buffer: the tracker is built from it on the ring's next use. */
  inflightReplaced(): void {
    this.tracker = undefined;
  }

  /** SET_VRING_KICK: the ring starts (`fd` undefined: polled, never kicked). */
  start(fd: number | undefined, enable: boolean): void {
    this.kick?.close();
    this.kick = fd === undefined ? undefined : new EventFd(fd);
    if (!this.addr || this.num === 0)
      throw new RequestRefused(`ring ${this.index} started before its size and addresses`);
    this.dropQueue();
    this.tracker = undefined;
    this.started = true;
    if (enable) this.enabled = true;
    this.kick?.watch(() => this.run());
    this.run();
  }

  /** Lets the device use what the driver made available on a started, enabled ring. */
  run(): void {
    if (!this.started || !this.enabled || this.host.ended || this.host.memory.paused) return;
    try {
      const queue = this.queueOf();
      if (!queue) return;
      if (this.host.memory.windowed) {
        const reached = this.reachChains(queue);
        this.budget = reached.ready;
        if (!reached.complete) {
          if (reached.ready === 0 && this.host.memory.chainsInFlight === 0)
            throw new MemoryError(
              'NO_SPACE',
              `ring ${this.index}: one request needs more guest memory windows than the session memory holds (raise memoryBytes)`,
            );
          this.starved = true; // continues when a chain comes back and frees its windows
        }
      } else {
        this.budget = Infinity;
      }
      const result = this.host.device.process(this.view);
      if (result && typeof (result as Promise<void>).then === 'function')
        (result as Promise<void>).catch((error: unknown) => this.fail(error as Error));
    } catch (error) {
      if (error instanceof MemoryError && error.code === 'NO_SPACE' && this.host.memory.chainsInFlight > 0) {
        this.starved = true; // every window is held by chains in flight: retried when one returns
        return;
      }
      this.fail(error as Error);
    }
    this.host.checkFaults();
  }

  /** The regions moved or changed: translate the areas again and serve what waits. */
  memoryChanged(): void {
    if (!this.started) return;
    try {
      this.queueOf();
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    this.run();
  }

  /** A broken ring: report it on the error fd and stop using it until it is set up again. */
  fail(error: Error): void {
    this.host.reportError(error);
    this.err?.signal();
    this.enabled = false;
    this.host.deviceNeedsReset();
  }

  /** GET_VRING_BASE: waits (bounded) for the chains the device holds, then stops the ring. */
  async stop(): Promise<number> {
    this.enabled = false;
    if (this.inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.drained.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS))),
      ]);
      clearTimeout(timer);
    }
    const position = this.position;
    this.halt();
    this.base = position;
    return position;
  }

  /** Stops at once (reset, session end): chains still held are dropped. */
  halt(): void {
    this.base = this.position; // where a restart resumes
    this.tracker = undefined;
    this.writes.clear();
    this.kick?.close();
    this.kick = undefined;
    this.started = false;
    this.dropQueue();
  }

  /** The session ended. */
  close(): void {
    this.halt();
    this.call?.close();
    this.err?.close();
    this.call = this.err = undefined;
  }

  private dropQueue(): void {
    for (let i = 0; i < this.inFlight; i++) this.host.memory.end();
    this.inFlight = 0;
    for (const wake of this.drained.splice(0)) wake();
    this.chains.releaseAll();
    for (const w of this.areaWindows) this.host.memory.unpin(w);
    this.areaWindows = [];
    this.queue = undefined;
    this.generation = -1;
  }

  /** The ring's queue on the ring core: built on first use, its areas translated again when
   *  the memory table was replaced. */
  private queueOf(): DeviceRing | undefined {
    const memory = this.host.memory;
    if (this.queue && this.generation === memory.generation) return this.queue;
    if (!this.addr || memory.regionCount === 0) return undefined;
    const packed = hasFeature(this.host.features, VirtioFeature.VIRTIO_F_RING_PACKED);
    const sizes = packed
      ? [PACKED_RING_AREAS.descriptorRing, PACKED_RING_AREAS.driverEvent, PACKED_RING_AREAS.deviceEvent]
      : [SPLIT_RING_AREAS.descriptorTable, SPLIT_RING_AREAS.availableRing, SPLIT_RING_AREAS.usedRing];
    const users = [this.addr.desc, this.addr.avail, this.addr.used];
    const gpas = users.map((user, i) => {
      const length = sizes[i]!.size(this.num);
      const gpa = memory.guestOfUser(user, length);
      if (gpa < 0) throw new RequestRefused(`ring ${this.index}: address 0x${user.toString(16)} is in no region`);
      return gpa;
    }) as [number, number, number];
    // The core keeps the areas' linear offsets: their windows stay mapped while the ring runs.
    const windows = gpas.map((gpa, i) => memory.reach(gpa, sizes[i]!.size(this.num)));
    for (const w of windows) memory.pin(w);
    for (const w of this.areaWindows) memory.unpin(w);
    this.areaWindows = windows;
    this.areas = { desc: gpas[0], avail: gpas[1], used: gpas[2] };
    if (this.queue && this.packed === packed) {
      this.queue.queue.relocate();
    } else {
      this.packed = packed;
      this.queue = DeviceRing.create(this.host.guest, {
        layout: packed ? 'packed' : 'split',
        size: this.num,
        desc: gpas[0],
        avail: gpas[1],
        used: gpas[2],
        base: this.base,
        engine: this.host.engine,
        indirect: hasFeature(this.host.features, VirtioFeature.VIRTIO_F_INDIRECT_DESC),
        eventIdx: hasFeature(this.host.features, VirtioFeature.VIRTIO_F_EVENT_IDX),
      });
    }
    this.generation = memory.generation;
    if (this.host.inflight && !this.tracker && !packed) this.tracker = this.takeOverInflight(this.queue, gpas[0]);
    return this.queue;
  }

  /** Hook (inflight): the first use of a started ring takes over what its region holds in flight. */
  private takeOverInflight(queue: DeviceRing, descGpa: number): SplitInflightTracker {
    const region = (this.host.inflight as InflightBuffer).splitRegion(this.index);
    if (region.queueSize !== this.num)
      throw new RequestRefused(
        `inflight buffer has ${region.queueSize} entries per queue, ring ${this.index} has ${this.num}`,
      );
    const wasInUse = region.version !== 0;
    const heads = region.takeOver(queue.usedIndex);
    // After a crash the front-end can only send used.idx as the base: the next request to fetch
    // is past the ones still in flight.
    if (wasInUse) queue.queue.setBase((queue.usedIndex + heads.length) & 0xffff);
    const table = {
      desc: descGpa,
      size: this.num,
      indirect: hasFeature(this.host.features, VirtioFeature.VIRTIO_F_INDIRECT_DESC),
    };
    return new SplitInflightTracker(
      region,
      heads.map((head) => readSplitChain(this.host.guest, table, head)),
    );
  }

  /** Hook (dirty log): where this ring logs now; undefined while the front-end does not log. */
  private logTarget(): RingLogTarget | undefined {
    const log = this.host.activeLog;
    if (!log) return undefined;
    const usedRing =
      (this.addrFlags & VringAddrFlags.VHOST_VRING_F_LOG) !== 0
        ? {
            gpa: this.logAddr,
            bytes: (this.packed ? PACKED_RING_AREAS.descriptorRing : SPLIT_RING_AREAS.usedRing).size(this.num),
          }
        : undefined;
    return { log, usedRing };
  }

  /** Guest-physical address of an offset in the memory where guest RAM is mapped. */
  private gpaOfOffset(offset: number): number {
    for (const r of this.host.memory.list)
      if (offset >= r.memOffset && offset < r.memOffset + r.size) return r.guestAddr + (offset - r.memOffset);
    throw new DirtyLogError(`memory offset ${offset} is in no guest region`);
  }

  /** The queue as the inflight tracker drives it (pops within this run's budget). */
  private tracked(queue: DeviceRing): TrackedRing {
    return {
      pop: () => queue.pop(this.budget),
      push: (head, written) => queue.push(head, written),
      publish: () => queue.publish(),
      get usedIndex() {
        return queue.usedIndex;
      },
      get batchLimit() {
        return queue.batchLimit;
      },
    };
  }

  private reachChains(queue: DeviceRing): Reached {
    const areas = this.areas as { desc: number; avail: number };
    const bytes = this.host.guest.u8;
    if (this.packed) {
      const base = queue.base; // next avail slot, and the driver's wrap counter in bit 15
      return this.chains.reachAvailablePacked(
        bytes,
        { size: this.num, desc: areas.desc },
        base & 0x7fff,
        (base >> 15) & 1,
      );
    } else {
      return this.chains.reachAvailable(bytes, { size: this.num, ...areas }, queue.queue.availIndex);
    }
  }

  private pop(): ReturnType<DeviceQueue['pop']> {
    const queue = this.queue;
    if (!queue || !this.enabled || this.host.memory.paused) return null;
    let chain: Chain | null = null;
    if (this.budget > 0) chain = this.tracker ? this.tracker.pop(this.tracked(queue)) : queue.pop(this.budget);
    if (!chain && this.budget !== Infinity && !this.starved && queue.rearm()) {
      // Windowed memory: chains came in after the walk; walk them and serve them next turn.
      setImmediate(() => this.run());
    }
    if (chain) {
      this.budget--;
      this.inFlight++;
      this.host.memory.begin();
      this.writes.popped(chain);
    }
    return chain;
  }

  private serve(handler: ChainHandler): number {
    const queue = this.queue;
    if (!queue || !this.enabled || this.host.memory.paused) return 0;
    // The fused pass neither records requests inflight nor logs what it writes.
    const hooked = this.tracker !== undefined || this.host.activeLog !== undefined;
    if (!this.host.memory.windowed && this.inFlight === 0 && !hooked) return queue.serve(handler);
    // Windowed memory, chains still out, inflight tracking or dirty logging: one chain at a
    // time, each mapped while it is served.
    let served = 0;
    for (let chain = this.pop(); chain; chain = this.pop()) {
      const read = chain.readable[0];
      const write = chain.writable[0];
      const written = handler.serve(
        chain.head,
        read?.offset ?? 0,
        read?.length ?? 0,
        write?.offset ?? 0,
        write?.length ?? 0,
      );
      this.push(chain.head, written);
      served++;
    }
    return served;
  }

  private push(head: number, written: number): void {
    const queue = this.queue;
    if (!queue || this.inFlight === 0) return; // the ring stopped meanwhile: dropped
    this.writes.pushed(head, written);
    if (this.tracker) this.tracker.push(this.tracked(queue), head, written);
    else queue.push(head, written);
    this.chains.release(head);
    this.inFlight--;
    this.host.memory.end();
    if (this.inFlight === 0) for (const wake of this.drained.splice(0)) wake();
    this.host.chainReturned();
  }

  /** A chain of the session came back (its windows may be free): run again if this ring waits. */
  retryIfStarved(): void {
    if (!this.starved) return;
    this.starved = false;
    setImmediate(() => this.run());
  }

  private notify(): void {
    const queue = this.queue;
    if (!queue) return;
    if (this.tracker) this.tracker.complete(this.tracked(queue));
    const wanted = queue.flush();
    this.writes.published();
    if (wanted) this.call?.signal();
  }
}
