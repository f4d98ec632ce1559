/**
 * One ring of a back-end session: what the front-end set (size, base, addresses, eventfds),
 * whether it is started and enabled, its queue on the ring core, and the chains the device
 * holds. A ring starts on SET_VRING_KICK, is enabled by SET_VRING_ENABLE (or at start without
 * protocol features), runs the device when kicked, and stops on GET_VRING_BASE once the chains
 * in flight are back. Guest memory comes from the session (windows are mapped before the core
 * walks chains when some region is windowed).
 */
import { PACKED_RING_AREAS, SPLIT_RING_AREAS, VirtioFeature, hasFeature } from '@vhost-user/codec';
import type { ChainHandler, GuestMemory } from '@vhost-user/vring';
import type { DeviceQueue, VhostUserDevice } from './device.js';
import { EventFd } from './eventfd.js';
import { MemoryError } from './memory.js';
import { DeviceRing, type EngineName } from './ring/queues.js';
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
  }

  /** Where the ring core is now (what GET_VRING_BASE reports). */
  get position(): number {
    return this.queue ? this.queue.base : this.base;
  }

  setAddr(addr: { desc: number; avail: number; used: number }): void {
    this.addr = addr;
    if (this.queue) this.dropQueue(); // re-created from the new addresses on the next run
  }

  /** SET_VRING_KICK: the ring starts (`fd` undefined: polled, never kicked). */
  start(fd: number | undefined, enable: boolean): void {
    this.kick?.close();
    this.kick = fd === undefined ? undefined : new EventFd(fd);
    if (!this.addr || this.num === 0)
      throw new RequestRefused(`ring ${this.index} started before its size and addresses`);
    this.dropQueue();
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
    return this.queue;
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
    const chain = this.budget > 0 ? queue.pop(this.budget) : null;
    if (!chain && this.budget !== Infinity && !this.starved && queue.rearm()) {
      // Windowed memory: chains came in after the walk; walk them and serve them next turn.
      setImmediate(() => this.run());
    }
    if (chain) {
      this.budget--;
      this.inFlight++;
      this.host.memory.begin();
    }
    return chain;
  }

  private serve(handler: ChainHandler): number {
    const queue = this.queue;
    if (!queue || !this.enabled || this.host.memory.paused) return 0;
    if (!this.host.memory.windowed && this.inFlight === 0) return queue.serve(handler);
    // Windowed memory (or chains still out): one chain at a time, each mapped while it is served.
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
    queue.push(head, written);
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
    if (queue && queue.flush()) this.call?.signal();
  }
}
