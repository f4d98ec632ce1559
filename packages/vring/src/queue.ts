/**
 * The two sides of a virtqueue over a GuestMemory. Construction (ring address checks, control
 * block, batch arrays), notification decisions and ring base state live here in TypeScript; the
 * per-chain work runs in the chosen engine (the WebAssembly core or the TypeScript path).
 */
import {
  PACKED_DESC,
  PACKED_EVENT,
  PACKED_MAX_QUEUE_SIZE,
  PACKED_RING,
  PACKED_RING_AREAS,
  SPLIT_AVAIL,
  SPLIT_MAX_QUEUE_SIZE,
  SPLIT_RING,
  SPLIT_RING_AREAS,
  SPLIT_USED,
  packVringBaseNumPacked,
  packVringBaseNumSplit,
  unpackVringBaseNumPacked,
  unpackVringBaseNumSplit,
} from '@vhost-user/codec';
import type { Engine, EngineName } from './engine.js';
import type { ChainFiller, ChainHandler, CompletionFolder } from './handlers.js';
import { engineFor } from './engines.js';
import { VringError } from './errors.js';
import {
  BUFFER_SPEC,
  CHAIN_RECORD,
  COMPACT_RECORD,
  CONTROL,
  FEATURE,
  QUEUE_KIND,
  RECLAIM_RECORD,
  SEGMENT_RECORD,
  USED_RECORD,
} from './layout.js';
import type { GuestMemory } from './memory.js';
import { OFF_WRAP, needEvent, needEventPacked } from './notify.js';
import type { RejectCode } from './reasons.js';

export type RingLayout = 'split' | 'packed';

export interface QueueOptions {
  memory: GuestMemory;
  layout: RingLayout;
  queueSize: number;
  /** Guest-physical address of the descriptor table (split) or descriptor ring (packed). */
  desc: number | bigint;
  /** Split: the available ring. Packed: the driver event suppression structure. */
  driverArea: number | bigint;
  /** Split: the used ring. Packed: the device event suppression structure. */
  deviceArea: number | bigint;
  /** VIRTIO_F_INDIRECT_DESC negotiated. */
  indirect?: boolean;
  /** VIRTIO_F_EVENT_IDX negotiated. */
  eventIdx?: boolean;
  /** Chains per batch call (capacity of the chain / completion records). Default 64. */
  batch?: number;
  /** Segment records (device) or reserved descriptors (driver) per batch. Default max(queueSize, 4 * batch). */
  segments?: number;
  /** 'wasm' (default) or 'ts'. */
  engine?: EngineName;
}

interface Areas {
  desc: number;
  driverArea: number;
  deviceArea: number;
}

function ringAreas(options: QueueOptions): Areas {
  const { memory, layout, queueSize } = options;
  const isSplit = layout === 'split';
  const max = isSplit ? SPLIT_MAX_QUEUE_SIZE : PACKED_MAX_QUEUE_SIZE;
  if (!Number.isInteger(queueSize) || queueSize < 1 || queueSize > max) {
    throw new VringError('INVALID_ARGUMENT', `queue size must be 1..${max}`);
  }
  if (isSplit && (queueSize & (queueSize - 1)) !== 0)
    throw new VringError('INVALID_ARGUMENT', 'split queue size must be a power of 2');
  const specs = isSplit
    ? [SPLIT_RING_AREAS.descriptorTable, SPLIT_RING_AREAS.availableRing, SPLIT_RING_AREAS.usedRing]
    : [PACKED_RING_AREAS.descriptorRing, PACKED_RING_AREAS.driverEvent, PACKED_RING_AREAS.deviceEvent];
  const gpas = [options.desc, options.driverArea, options.deviceArea];
  const names = ['desc', 'driverArea', 'deviceArea'];
  const offsets = specs.map((spec, i) => {
    const size = spec.size(queueSize);
    const gpa = BigInt(gpas[i]!);
    if (gpa % BigInt(spec.align) !== 0n)
      throw new VringError('BAD_RING_ADDRESS', `${names[i]} must be ${spec.align}-byte aligned`);
    const at = memory.translate(gpa, size);
    if (at < 0)
      throw new VringError(
        'BAD_RING_ADDRESS',
        `${names[i]} (${size} bytes at 0x${gpa.toString(16)}) is not inside a guest region`,
      );
    if (at % spec.align !== 0)
      throw new VringError('BAD_RING_ADDRESS', `${names[i]} maps to a misaligned linear offset`);
    return at;
  });
  return { desc: offsets[0]!, driverArea: offsets[1]!, deviceArea: offsets[2]! };
}

/** State and views shared by both sides. */
abstract class QueueSide {
  readonly memory: GuestMemory;
  readonly layout: RingLayout;
  readonly queueSize: number;
  readonly engine: Engine;
  /** Linear offset of this side's control block. */
  readonly control: number;
  /** Linear offsets of the ring areas (moved by `relocate`). */
  areas: Areas;
  private readonly options: QueueOptions;
  readonly eventIdx: boolean;
  readonly indirect: boolean;
  protected readonly batch: number;
  protected readonly segmentCapacity: number;

  protected constructor(options: QueueOptions, kind: { split: number; packed: number }) {
    this.memory = options.memory;
    this.options = options;
    this.layout = options.layout;
    this.queueSize = options.queueSize;
    this.areas = ringAreas(options);
    this.eventIdx = options.eventIdx ?? false;
    this.indirect = options.indirect ?? false;
    this.engine = engineFor(options.memory.memory, options.engine ?? 'wasm');
    this.batch = options.batch ?? 64;
    this.segmentCapacity = options.segments ?? Math.max(this.queueSize, 4 * this.batch);
    if (!Number.isInteger(this.batch) || this.batch < 1)
      throw new VringError('INVALID_ARGUMENT', 'batch must be a positive integer');
    if (!Number.isInteger(this.segmentCapacity) || this.segmentCapacity < this.queueSize) {
      throw new VringError('INVALID_ARGUMENT', 'segments must be at least the queue size');
    }
    this.control = this.memory.allocate(CONTROL.size);
    this.set(CONTROL.kind, this.layout === 'split' ? kind.split : kind.packed);
    this.set(CONTROL.queueSize, this.queueSize);
    this.set(CONTROL.features, (this.indirect ? FEATURE.indirect : 0) | (this.eventIdx ? FEATURE.eventIdx : 0));
    this.set(CONTROL.desc, this.areas.desc);
    this.set(CONTROL.driverArea, this.areas.driverArea);
    this.set(CONTROL.deviceArea, this.areas.deviceArea);
    this.set(CONTROL.memoryHeader, this.memory.headerOffset);
  }

  /**
   * Translates the ring areas again after the regions table moved guest memory to other linear
   * offsets (a replaced memory table): positions, in-flight chains and errors are kept.
   */
  relocate(): void {
    this.areas = ringAreas(this.options);
    this.set(CONTROL.desc, this.areas.desc);
    this.set(CONTROL.driverArea, this.areas.driverArea);
    this.set(CONTROL.deviceArea, this.areas.deviceArea);
  }

  protected get(field: number): number {
    return this.memory.u32[(this.control + field) >>> 2]!;
  }

  protected set(field: number, value: number): void {
    this.memory.u32[(this.control + field) >>> 2] = value;
  }

  protected allocateArray(field: number, capacityField: number, capacity: number, recordSize: number): number {
    const at = this.memory.allocate(capacity * recordSize);
    this.set(field, at);
    if (capacityField >= 0) this.set(capacityField, capacity);
    return at;
  }

  /** Queue-level error (a REJECT code) or 0. Once set, the queue processes nothing until reset. */
  get status(): number {
    return this.get(CONTROL.status);
  }

  /** True once any chain or element was rejected (a device reports DEVICE_NEEDS_RESET). */
  get needsReset(): boolean {
    return this.get(CONTROL.needsReset) !== 0;
  }

  /** Rejected chains (device) or bad used elements (driver) so far. */
  get errors(): number {
    return this.get(CONTROL.errors);
  }

  get lastError(): RejectCode | 0 {
    return this.get(CONTROL.lastError) as RejectCode | 0;
  }

  /** Clears the error state (after the front-end has reset the ring). */
  clearErrors(): void {
    this.set(CONTROL.status, 0);
    this.set(CONTROL.needsReset, 0);
    this.set(CONTROL.errors, 0);
    this.set(CONTROL.lastError, 0);
  }

  /**
   * Whether the other side asked to be notified of what this side published since the last
   * call. Both directions use the same rules with the roles swapped: the device checks the
   * driver's used_event / driver event area, the driver checks the device's avail_event /
   * device event area (EVENT_IDX), or the other side's no-notify flag without it.
   */
  protected peerWantsNotification(
    ours: { index: number; wrap: number },
    peer: { splitArea: number; splitEvent: number; splitFlags: number; noNotifyFlag: number; packedEvent: number },
  ): boolean {
    const oldIdx = this.get(CONTROL.eventShadow);
    const oldWrap = this.get(CONTROL.eventShadowWrap);
    const newIdx = this.get(ours.index);
    const newWrap = this.get(ours.wrap);
    this.set(CONTROL.eventShadow, newIdx);
    this.set(CONTROL.eventShadowWrap, newWrap);
    if (newIdx === oldIdx && newWrap === oldWrap) return false;
    if (this.layout === 'split') {
      if (this.eventIdx) return needEvent(this.u16At(peer.splitArea + peer.splitEvent), newIdx, oldIdx);
      return (this.u16At(peer.splitArea + peer.splitFlags) & peer.noNotifyFlag) === 0;
    }
    const q = this.queueSize;
    const mode = this.u16At(peer.packedEvent + PACKED_EVENT.flags);
    if (mode === PACKED_RING.RING_EVENT_FLAGS_DISABLE) return false;
    if (mode === PACKED_RING.RING_EVENT_FLAGS_DESC && this.eventIdx) {
      const offWrap = this.u16At(peer.packedEvent + PACKED_EVENT.desc);
      return needEventPacked(
        q,
        offWrap & OFF_WRAP.offsetMask,
        offWrap >>> OFF_WRAP.wrapShift,
        newIdx,
        newWrap,
        oldIdx,
        oldWrap,
      );
    }
    return true;
  }

  protected u16At(offset: number): number {
    return Atomics.load(this.memory.u16, offset >>> 1);
  }

  protected setU16At(offset: number, value: number): void {
    Atomics.store(this.memory.u16, offset >>> 1, value);
  }
}

/**
 * The device side: pops validated chains in batches and pushes used elements.
 *
 * After `pop(n)` returns k, `chains` holds k records of CHAIN_RECORD.size / 4 int32 each
 * (id, reason, readable, writable, firstSegment, ringSlots) and `segments` holds their buffers as
 * {offset in the linear memory, length} pairs, readable ones first. To complete chains, fill
 * `used` with {id, length, ringSlots, 0} records and call `push(count)`.
 */
export class VirtqueueDevice extends QueueSide {
  readonly chains: Int32Array;
  readonly segments: Uint32Array;
  readonly used: Uint32Array;
  /**
   * COMPACT_RECORDs of `popCompact` (the same memory as `chains`, read it as one or the other):
   * per chain id, reason, first readable buffer {offset, length}, first writable buffer
   * {offset, length}, ringSlots, and usedLength for the caller to fill before `pushCompact`.
   */
  readonly records: Int32Array;
  private readonly popFn: (cb: number, max: number) => number;
  private readonly pushFn: (cb: number, count: number) => number;
  private readonly popCompactFn: (cb: number, max: number) => number;
  private readonly pushCompactFn: (cb: number, count: number) => number;
  private readonly serveFn: ((cb: number, max: number, handler: ChainHandler) => number) | undefined;

  constructor(options: QueueOptions) {
    super(options, { split: QUEUE_KIND.splitDevice, packed: QUEUE_KIND.packedDevice });
    const buffer = this.memory.memory.buffer;
    const out = this.allocateArray(CONTROL.out, CONTROL.outCapacity, this.batch, CHAIN_RECORD.size);
    this.chains = new Int32Array(buffer, out, (this.batch * CHAIN_RECORD.size) >>> 2);
    this.records = this.chains;
    const segs = this.allocateArray(
      CONTROL.segments,
      CONTROL.segmentCapacity,
      this.segmentCapacity,
      SEGMENT_RECORD.size,
    );
    this.segments = new Uint32Array(buffer, segs, (this.segmentCapacity * SEGMENT_RECORD.size) >>> 2);
    const input = this.allocateArray(CONTROL.input, CONTROL.inputCapacity, this.batch, USED_RECORD.size);
    this.used = new Uint32Array(buffer, input, (this.batch * USED_RECORD.size) >>> 2);
    const split = this.layout === 'split';
    this.popFn = split ? this.engine.splitDevicePop : this.engine.packedDevicePop;
    this.pushFn = split ? this.engine.splitDevicePush : this.engine.packedDevicePush;
    this.popCompactFn = split ? this.engine.splitDevicePopCompact : this.engine.packedDevicePopCompact;
    this.pushCompactFn = split ? this.engine.splitDevicePushCompact : this.engine.packedDevicePushCompact;
    this.serveFn = split ? this.engine.splitDeviceServe : this.engine.packedDeviceServe;
    this.set(CONTROL.availWrap, 1);
    this.set(CONTROL.usedWrap, 1);
    this.set(CONTROL.eventShadowWrap, 1);
  }

  /** Chain records per pop and used records per push. */
  get batchSize(): number {
    return this.batch;
  }

  /** Pops up to `max` chains (bounded by the batch size). Returns how many records were written. */
  pop(max: number = this.batch): number {
    return this.popFn(this.control, max);
  }

  /** Publishes the first `count` records of `used`. Returns how many were pushed. */
  push(count: number): number {
    return this.pushFn(this.control, count);
  }

  /**
   * Pops and validates up to `max` chains like `pop`, but writes COMPACT_RECORDs into `records`
   * (first readable and first writable buffer of each chain) and no segment records: the fast
   * path for request/response devices. Every descriptor of every chain is still validated.
   */
  popCompact(max: number = this.batch): number {
    return this.popCompactFn(this.control, max);
  }

  /** Publishes the first `count` of `records` as used elements (id, usedLength; packed: ringSlots). */
  pushCompact(count: number): number {
    return this.pushCompactFn(this.control, count);
  }

  /**
   * Serves up to `max` available chains (default: the queue size) in one pass: each chain is
   * validated in full, a valid one is handed to `handler.serve(id, readAt, readLength, writeAt,
   * writeLength)` (its first readable and first writable buffer) and its used element gets the
   * returned length; a rejected chain gets length 0 (and counts, see `needsReset`). The
   * TypeScript path runs this as one fused loop; the WebAssembly core runs it over popCompact /
   * pushCompact from JavaScript with the same results. Returns the chains consumed.
   */
  serve(handler: ChainHandler, max: number = this.queueSize): number {
    if (this.serveFn) return this.serveFn(this.control, max, handler);
    const r = this.records;
    const words = COMPACT_RECORD.size >>> 2;
    let total = 0;
    // At least one pop, even for max 0: it checks the available index like the fused loop does.
    for (;;) {
      const want = Math.min(this.batch, max - total);
      const n = this.popCompactFn(this.control, want);
      for (let i = 0, k = 0; i < n; i++, k += words) {
        if (r[k + (COMPACT_RECORD.reason >>> 2)] !== 0) continue;
        r[k + (COMPACT_RECORD.usedLength >>> 2)] = handler.serve(
          r[k + (COMPACT_RECORD.id >>> 2)]!,
          r[k + (COMPACT_RECORD.readOffset >>> 2)]! >>> 0,
          r[k + (COMPACT_RECORD.readLength >>> 2)]! >>> 0,
          r[k + (COMPACT_RECORD.writeOffset >>> 2)]! >>> 0,
          r[k + (COMPACT_RECORD.writeLength >>> 2)]! >>> 0,
        );
      }
      this.pushCompactFn(this.control, n);
      total += n;
      if (n < want || total >= max) break;
    }
    return total;
  }

  /** Next available index (split: free-running u16; packed: ring slot). */
  get availIndex(): number {
    return this.get(CONTROL.availIndex);
  }

  get usedIndex(): number {
    return this.get(CONTROL.usedIndex);
  }

  /** The VringBase.num that GET_VRING_BASE returns for this queue. */
  getBase(): number {
    if (this.layout === 'split') return packVringBaseNumSplit({ nextAvail: this.get(CONTROL.availIndex) });
    return packVringBaseNumPacked({
      nextAvail: this.get(CONTROL.availIndex),
      availWrapCounter: this.get(CONTROL.availWrap) !== 0,
      nextUsed: this.get(CONTROL.usedIndex),
      usedWrapCounter: this.get(CONTROL.usedWrap) !== 0,
    });
  }

  /**
   * Applies SET_VRING_BASE. Split rings resume the used index from used.idx in guest memory
   * (the driver's view); packed rings carry both positions in `num`. Clears the error state.
   */
  setBase(num: number): void {
    if (this.layout === 'split') {
      this.set(CONTROL.availIndex, unpackVringBaseNumSplit(num).nextAvail);
      const usedIdx = this.u16At(this.areas.deviceArea + SPLIT_USED.idx);
      this.set(CONTROL.usedIndex, usedIdx);
      this.set(CONTROL.eventShadow, usedIdx);
    } else {
      const base = unpackVringBaseNumPacked(num);
      if (base.nextAvail >= this.queueSize || base.nextUsed >= this.queueSize) {
        throw new VringError('INVALID_ARGUMENT', 'ring base index beyond the queue size');
      }
      this.set(CONTROL.availIndex, base.nextAvail);
      this.set(CONTROL.availWrap, base.availWrapCounter ? 1 : 0);
      this.set(CONTROL.usedIndex, base.nextUsed);
      this.set(CONTROL.usedWrap, base.usedWrapCounter ? 1 : 0);
      this.set(CONTROL.eventShadow, base.nextUsed);
      this.set(CONTROL.eventShadowWrap, base.usedWrapCounter ? 1 : 0);
    }
    this.clearErrors();
  }

  /**
   * Whether the driver wants a used-buffer notification for what was pushed since the last call
   * (used_event / driver event suppression with EVENT_IDX, the NO_INTERRUPT hint without).
   */
  needsNotify(): boolean {
    return this.peerWantsNotification(
      { index: CONTROL.usedIndex, wrap: CONTROL.usedWrap },
      {
        // used_event sits after the available ring's entries.
        splitArea: this.areas.driverArea,
        splitEvent: SPLIT_AVAIL.ring + SPLIT_RING.USED_EVENT_OFFSET_PER_ENTRY * this.queueSize,
        splitFlags: SPLIT_AVAIL.flags,
        noNotifyFlag: SPLIT_RING.VIRTQ_AVAIL_F_NO_INTERRUPT,
        packedEvent: this.areas.driverArea,
      },
    );
  }

  /** Asks the driver for available-buffer notifications. Returns true when chains are already pending (poll again). */
  enableNotify(): boolean {
    const q = this.queueSize;
    if (this.layout === 'split') {
      const used = this.areas.deviceArea;
      if (this.eventIdx) {
        this.setU16At(
          used + SPLIT_USED.ring + SPLIT_RING.AVAIL_EVENT_OFFSET_PER_ENTRY * q,
          this.get(CONTROL.availIndex),
        );
      } else {
        this.setU16At(
          used + SPLIT_USED.flags,
          this.u16At(used + SPLIT_USED.flags) & ~SPLIT_RING.VIRTQ_USED_F_NO_NOTIFY,
        );
      }
      return this.u16At(this.areas.driverArea + SPLIT_AVAIL.idx) !== this.get(CONTROL.availIndex);
    }
    const event = this.areas.deviceArea;
    if (this.eventIdx) {
      this.setU16At(
        event + PACKED_EVENT.desc,
        this.get(CONTROL.availIndex) | (this.get(CONTROL.availWrap) << OFF_WRAP.wrapShift),
      );
      this.setU16At(event + PACKED_EVENT.flags, PACKED_RING.RING_EVENT_FLAGS_DESC);
    } else {
      this.setU16At(event + PACKED_EVENT.flags, PACKED_RING.RING_EVENT_FLAGS_ENABLE);
    }
    return this.packedHeadAvailable();
  }

  /** Tells the driver not to notify (a polling device). */
  disableNotify(): void {
    if (this.layout === 'split') {
      if (this.eventIdx) return;
      const used = this.areas.deviceArea;
      this.setU16At(used + SPLIT_USED.flags, this.u16At(used + SPLIT_USED.flags) | SPLIT_RING.VIRTQ_USED_F_NO_NOTIFY);
      return;
    }
    this.setU16At(this.areas.deviceArea + PACKED_EVENT.flags, PACKED_RING.RING_EVENT_FLAGS_DISABLE);
  }

  private packedHeadAvailable(): boolean {
    const flags = this.u16At(this.areas.desc + this.get(CONTROL.availIndex) * PACKED_DESC.size + PACKED_DESC.flags);
    const wrap = this.get(CONTROL.availWrap);
    const avail = (flags & PACKED_RING.VIRTQ_DESC_F_AVAIL) !== 0 ? 1 : 0;
    const used = (flags & PACKED_RING.VIRTQ_DESC_F_USED) !== 0 ? 1 : 0;
    return avail === wrap && used !== wrap;
  }
}

/**
 * The driver side: reserves descriptors, publishes chains in batches and reclaims used ones.
 *
 * `reserve(chains, perChain)` takes descriptors (split) or ring slots and buffer ids (packed);
 * after it, `chainIds` holds each reserved chain's id (split: head index; packed: buffer id) and
 * `descriptors` each reserved descriptor's index (split) or ring slot (packed), in order. Fill
 * `specs` ({addrLow, addrHigh, length, flags} per reserved descriptor; flags WRITE / INDIRECT)
 * and call `publish()`. `reclaim(max)` writes {id, length} pairs into `completions`.
 */
export class VirtqueueDriver extends QueueSide {
  readonly chainIds: Uint16Array;
  readonly descriptors: Uint16Array;
  readonly specs: Uint32Array;
  readonly completions: Uint32Array;
  private readonly reserveFn: (cb: number, chains: number, perChain: number) => number;
  private readonly publishFn: (cb: number) => number;
  private readonly reclaimFn: (cb: number, max: number) => number;
  private readonly submitFn: Engine['splitDriverSubmit'];
  private readonly reclaimFoldFn: Engine['splitDriverReclaimFold'];

  constructor(options: QueueOptions) {
    super(options, { split: QUEUE_KIND.splitDriver, packed: QUEUE_KIND.packedDriver });
    const buffer = this.memory.memory.buffer;
    const q = this.queueSize;
    const out = this.allocateArray(CONTROL.out, CONTROL.outCapacity, this.batch, RECLAIM_RECORD.size);
    this.completions = new Uint32Array(buffer, out, (this.batch * RECLAIM_RECORD.size) >>> 2);
    const positions = this.allocateArray(CONTROL.segments, CONTROL.segmentCapacity, this.segmentCapacity, 2);
    this.descriptors = new Uint16Array(buffer, positions, this.segmentCapacity);
    const specs = this.allocateArray(CONTROL.input, CONTROL.inputCapacity, this.segmentCapacity, BUFFER_SPEC.size);
    this.specs = new Uint32Array(buffer, specs, (this.segmentCapacity * BUFFER_SPEC.size) >>> 2);
    const ids = this.allocateArray(CONTROL.chainIds, -1, this.batch, 2);
    this.chainIds = new Uint16Array(buffer, ids, this.batch);
    this.allocateArray(CONTROL.chainLengths, -1, this.batch, 2);
    const links = this.allocateArray(CONTROL.links, -1, q, 2);
    this.allocateArray(CONTROL.inflight, -1, q, 2);
    const split = this.layout === 'split';
    this.reserveFn = split ? this.engine.splitDriverReserve : this.engine.packedDriverReserve;
    this.publishFn = split ? this.engine.splitDriverPublish : this.engine.packedDriverPublish;
    this.reclaimFn = split ? this.engine.splitDriverReclaim : this.engine.packedDriverReclaim;
    this.submitFn = split ? this.engine.splitDriverSubmit : this.engine.packedDriverSubmit;
    this.reclaimFoldFn = split ? this.engine.splitDriverReclaimFold : this.engine.packedDriverReclaimFold;
    const u16 = this.memory.u16;
    if (split) {
      // Free list 0, 1, ..., Q-1 (LIFO through the private links).
      for (let i = 0; i < q; i++) u16[(links >>> 1) + i] = (i + 1) % q;
      this.set(CONTROL.freeHead, 0);
    } else {
      // Free id stack with 0 on top.
      for (let i = 0; i < q; i++) u16[(links >>> 1) + i] = q - 1 - i;
      this.set(CONTROL.freeHead, q);
    }
    this.set(CONTROL.freeCount, q);
    this.set(CONTROL.availWrap, 1);
    this.set(CONTROL.usedWrap, 1);
    this.set(CONTROL.eventShadowWrap, 1);
    this.resetRings();
  }

  /** Zeroes the ring areas: the driver owns them and starts from a clean ring. */
  private resetRings(): void {
    const q = this.queueSize;
    const u8 = this.memory.u8;
    if (this.layout === 'split') {
      u8.fill(0, this.areas.desc, this.areas.desc + SPLIT_RING_AREAS.descriptorTable.size(q));
      u8.fill(0, this.areas.driverArea, this.areas.driverArea + SPLIT_RING_AREAS.availableRing.size(q));
      u8.fill(0, this.areas.deviceArea, this.areas.deviceArea + SPLIT_RING_AREAS.usedRing.size(q));
    } else {
      u8.fill(0, this.areas.desc, this.areas.desc + PACKED_RING_AREAS.descriptorRing.size(q));
      u8.fill(0, this.areas.driverArea, this.areas.driverArea + PACKED_RING_AREAS.driverEvent.size(q));
      u8.fill(0, this.areas.deviceArea, this.areas.deviceArea + PACKED_RING_AREAS.deviceEvent.size(q));
    }
  }

  /** Chains per reserve/publish and completions per reclaim. */
  get batchSize(): number {
    return this.batch;
  }

  /** Free descriptors (split) or free ring slots (packed). */
  get freeDescriptors(): number {
    return this.get(CONTROL.freeCount);
  }

  /** Chains reserved and not yet published. */
  get reservedChains(): number {
    return this.get(CONTROL.reservedChains);
  }

  /** Reserves `chains` chains of `perChain` descriptors. Returns `chains`, or 0 when they do not fit now. */
  reserve(chains: number, perChain: number): number {
    return this.reserveFn(this.control, chains, perChain);
  }

  /** Writes the reserved chains from `specs` and makes them available. Returns the chain count. */
  publish(): number {
    return this.publishFn(this.control);
  }

  /** Reclaims up to `max` used chains into `completions`. Returns the count. */
  reclaim(max: number = this.batch): number {
    return this.reclaimFn(this.control, max);
  }

  /**
   * Reserves, builds and publishes `chains` chains of `perChain` descriptors in one call, or
   * none (returns 0) when they do not fit now, exceed the batch size, or a reserve() is pending.
   * For chain c, `filler.fill(c, id, descriptors, first)` gets the chain's id (split: head index;
   * packed: buffer id) and its descriptor indices (packed: ring slots) at descriptors[first ...]
   * and writes the request into the buffers; descriptor k then
   * gets `filler.address / length / flags(c, k, index)`. One release of the available index.
   * The TypeScript path runs this as one fused loop; otherwise it is reserve,
   * the specs and publish, with the same result.
   */
  submit(chains: number, perChain: number, filler: ChainFiller): number {
    if (chains > this.batch) return 0;
    if (this.submitFn) return this.submitFn(this.control, chains, perChain, filler, this.descriptors);
    if (this.reservedChains !== 0 || this.reserve(chains, perChain) !== chains) return 0;
    const specs = this.specs;
    const words = BUFFER_SPEC.size >>> 2;
    for (let c = 0, first = 0; c < chains; c++, first += perChain) {
      filler.fill(c, this.chainIds[c]!, this.descriptors, first);
      for (let k = 0; k < perChain; k++) {
        const index = this.descriptors[first + k]!;
        const addr = filler.address(c, k, index);
        const at = (first + k) * words;
        specs[at + (BUFFER_SPEC.addrLow >>> 2)] = addr >>> 0;
        specs[at + (BUFFER_SPEC.addrHigh >>> 2)] = Math.floor(addr / 4294967296);
        specs[at + (BUFFER_SPEC.length >>> 2)] = filler.length(c, k, index);
        specs[at + (BUFFER_SPEC.flags >>> 2)] = filler.flags(c, k, index);
      }
    }
    return this.publish();
  }

  /**
   * Reclaims up to `max` used chains (default: the queue size) and folds each into `acc` with
   * `consumer.complete(acc, id, length)`; returns the final accumulator. A used element with an
   * id not in flight is counted in `errors` and skipped (split) or stops the queue (packed), as
   * in reclaim(). The TypeScript path runs this as one fused loop; otherwise it is reclaim()
   * batches with the same result.
   */
  reclaimFold<A>(consumer: CompletionFolder<A>, acc: A, max: number = this.queueSize): A {
    if (this.reclaimFoldFn) return this.reclaimFoldFn(this.control, max, consumer, acc);
    const done = this.completions;
    let total = 0;
    // At least one reclaim, even for max 0: it checks the used index like the fused loop does.
    for (;;) {
      const want = Math.min(this.batch, max - total);
      const n = this.reclaimFn(this.control, want);
      const words = RECLAIM_RECORD.size >>> 2;
      for (let i = 0, k = 0; i < n; i++, k += words) {
        acc = consumer.complete(acc, done[k + (RECLAIM_RECORD.id >>> 2)]!, done[k + (RECLAIM_RECORD.length >>> 2)]!);
      }
      total += n;
      if (n < want || total >= max) break;
    }
    return acc;
  }

  /** Fills spec `position` (a convenience for non-hot paths). */
  setSpec(position: number, addr: number | bigint, length: number, flags: number): void {
    const a = BigInt(addr);
    const i = position * (BUFFER_SPEC.size >>> 2);
    this.specs[i + (BUFFER_SPEC.addrLow >>> 2)] = Number(a & 0xffffffffn);
    this.specs[i + (BUFFER_SPEC.addrHigh >>> 2)] = Number((a >> 32n) & 0xffffffffn);
    this.specs[i + (BUFFER_SPEC.length >>> 2)] = length;
    this.specs[i + (BUFFER_SPEC.flags >>> 2)] = flags;
  }

  /** Whether the device wants an available-buffer notification for what was published since the last call. */
  needsKick(): boolean {
    return this.peerWantsNotification(
      { index: CONTROL.availIndex, wrap: CONTROL.availWrap },
      {
        // avail_event sits after the used ring's entries.
        splitArea: this.areas.deviceArea,
        splitEvent: SPLIT_USED.ring + SPLIT_RING.AVAIL_EVENT_OFFSET_PER_ENTRY * this.queueSize,
        splitFlags: SPLIT_USED.flags,
        noNotifyFlag: SPLIT_RING.VIRTQ_USED_F_NO_NOTIFY,
        packedEvent: this.areas.deviceArea,
      },
    );
  }

  /** Asks the device for used-buffer notifications. Returns true when completions are already pending. */
  enableInterrupts(): boolean {
    const q = this.queueSize;
    if (this.layout === 'split') {
      const avail = this.areas.driverArea;
      if (this.eventIdx) {
        this.setU16At(
          avail + SPLIT_AVAIL.ring + SPLIT_RING.USED_EVENT_OFFSET_PER_ENTRY * q,
          this.get(CONTROL.usedIndex),
        );
      } else {
        this.setU16At(
          avail + SPLIT_AVAIL.flags,
          this.u16At(avail + SPLIT_AVAIL.flags) & ~SPLIT_RING.VIRTQ_AVAIL_F_NO_INTERRUPT,
        );
      }
      return this.u16At(this.areas.deviceArea + SPLIT_USED.idx) !== this.get(CONTROL.usedIndex);
    }
    const event = this.areas.driverArea;
    if (this.eventIdx) {
      this.setU16At(
        event + PACKED_EVENT.desc,
        this.get(CONTROL.usedIndex) | (this.get(CONTROL.usedWrap) << OFF_WRAP.wrapShift),
      );
      this.setU16At(event + PACKED_EVENT.flags, PACKED_RING.RING_EVENT_FLAGS_DESC);
    } else {
      this.setU16At(event + PACKED_EVENT.flags, PACKED_RING.RING_EVENT_FLAGS_ENABLE);
    }
    const flags = this.u16At(this.areas.desc + this.get(CONTROL.usedIndex) * PACKED_DESC.size + PACKED_DESC.flags);
    const wrap = this.get(CONTROL.usedWrap);
    return (
      ((flags & PACKED_RING.VIRTQ_DESC_F_AVAIL) !== 0 ? 1 : 0) === wrap &&
      ((flags & PACKED_RING.VIRTQ_DESC_F_USED) !== 0 ? 1 : 0) === wrap
    );
  }

  /** Tells the device not to notify (a polling driver). */
  disableInterrupts(): void {
    if (this.layout === 'split') {
      const avail = this.areas.driverArea;
      this.setU16At(
        avail + SPLIT_AVAIL.flags,
        this.u16At(avail + SPLIT_AVAIL.flags) | SPLIT_RING.VIRTQ_AVAIL_F_NO_INTERRUPT,
      );
      return;
    }
    this.setU16At(this.areas.driverArea + PACKED_EVENT.flags, PACKED_RING.RING_EVENT_FLAGS_DISABLE);
  }
}
