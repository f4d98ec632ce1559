/**
 * Inflight I/O tracking (spec: prose/inflight.md, payloads/inflight.yaml): the per-queue regions
 * of the shared buffer, split and packed, with the fetch, completion and takeover procedures the
 * spec gives. The buffer outlives the back-end (the front-end keeps it), so everything read back
 * from it is checked before use: a crashed back-end or the front-end may have left anything there.
 */
import { DESC_STATE_PACKED_SIZE, DESC_STATE_SPLIT_SIZE } from '@vhost-user/codec';

/** Each queue region is rounded up to this many bytes (libvhost-user and DPDK agree). */
export const INFLIGHT_REGION_ALIGN = 64;
/** `version` of a region in use; 0 means not initialised. */
export const INFLIGHT_VERSION = 1;

/** Header sizes: the offset of `desc` in QueueRegionSplit / QueueRegionPacked. */
const SPLIT_HEADER = 16;
const PACKED_HEADER = 32;

/** Field offsets of the spec tables (checked against the generated codec by the unit tests). */
export const SPLIT_FIELDS = {
  features: 0,
  version: 8,
  descNum: 10,
  lastBatchHead: 12,
  usedIdx: 14,
  desc: { inflight: 0, next: 6, counter: 8 },
} as const;

export const PACKED_FIELDS = {
  features: 0,
  version: 8,
  descNum: 10,
  freeHead: 12,
  oldFreeHead: 14,
  usedIdx: 16,
  oldUsedIdx: 18,
  usedWrapCounter: 20,
  oldUsedWrapCounter: 21,
  desc: { inflight: 0, next: 2, last: 4, num: 6, counter: 8, id: 16, flags: 18, len: 20, addr: 24 },
} as const;

export class InflightError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InflightError';
  }
}

const alignUp = (n: number) => Math.ceil(n / INFLIGHT_REGION_ALIGN) * INFLIGHT_REGION_ALIGN;

/** Bytes of one queue region of `queueSize` entries, padded to the region alignment. */
export function inflightRegionBytes(queueSize: number, packed: boolean): number {
  return packed
    ? alignUp(PACKED_HEADER + DESC_STATE_PACKED_SIZE * queueSize)
    : alignUp(SPLIT_HEADER + DESC_STATE_SPLIT_SIZE * queueSize);
}

/** Whole buffer: one region per queue, back to back. */
export function inflightBufferBytes(numQueues: number, queueSize: number, packed: boolean): number {
  return numQueues * inflightRegionBytes(queueSize, packed);
}

function checkQueueSize(queueSize: number): void {
  if (!Number.isInteger(queueSize) || queueSize < 1 || queueSize > 32768)
    throw new InflightError(`inflight queue size ${queueSize} is not 1..32768`);
}

/** A split-ring queue region: one entry per descriptor, indexed like the descriptor table. */
export class SplitInflightRegion {
  private readonly view: DataView;
  /** Fetch order of the next request. */
  private counter = 0n;

  constructor(
    buffer: ArrayBufferLike,
    offset: number,
    readonly queueSize: number,
  ) {
    checkQueueSize(queueSize);
    this.view = new DataView(buffer, offset, inflightRegionBytes(queueSize, false));
  }

  private entry(head: number): number {
    if (!Number.isInteger(head) || head < 0 || head >= this.queueSize)
      throw new InflightError(`descriptor head ${head} is outside the queue (size ${this.queueSize})`);
    return SPLIT_HEADER + head * DESC_STATE_SPLIT_SIZE;
  }

  get version(): number {
    return this.view.getUint16(SPLIT_FIELDS.version, true);
  }

  get usedIdx(): number {
    return this.view.getUint16(SPLIT_FIELDS.usedIdx, true);
  }

  get lastBatchHead(): number {
    return this.view.getUint16(SPLIT_FIELDS.lastBatchHead, true);
  }

  isInflight(head: number): boolean {
    return this.view.getUint8(this.entry(head) + SPLIT_FIELDS.desc.inflight) === 1;
  }

  counterOf(head: number): bigint {
    return this.view.getBigUint64(this.entry(head) + SPLIT_FIELDS.desc.counter, true);
  }

  /** Marks a fresh region as in use (version 1, desc_num, used_idx from the ring). */
  initialise(usedRingIdx: number): void {
    this.view.setBigUint64(SPLIT_FIELDS.features, 0n, true);
    this.view.setUint16(SPLIT_FIELDS.descNum, this.queueSize, true);
    this.view.setUint16(SPLIT_FIELDS.usedIdx, usedRingIdx & 0xffff, true);
    this.view.setUint16(SPLIT_FIELDS.version, INFLIGHT_VERSION, true);
    this.counter = 0n;
  }

  /** A request with head `head` was taken from the available ring. */
  fetched(head: number): void {
    const e = this.entry(head);
    this.view.setBigUint64(e + SPLIT_FIELDS.desc.counter, this.counter++, true);
    this.view.setUint8(e + SPLIT_FIELDS.desc.inflight, 1);
  }

  /** Completion step 1, before the batch reaches the used ring: link its heads into the list. */
  linkBatch(heads: readonly number[]): void {
    for (const head of heads) {
      const e = this.entry(head);
      this.view.setUint16(e + SPLIT_FIELDS.desc.next, this.lastBatchHead, true);
      this.view.setUint16(SPLIT_FIELDS.lastBatchHead, head, true);
    }
  }

  /** Completion steps 3 and 4, after the used ring's index was advanced to `usedRingIdx`. */
  finishBatch(heads: readonly number[], usedRingIdx: number): void {
    for (const head of heads) this.view.setUint8(this.entry(head) + SPLIT_FIELDS.desc.inflight, 0);
    this.view.setUint16(SPLIT_FIELDS.usedIdx, usedRingIdx & 0xffff, true);
  }

  /**
   * Takeover after a restart: repairs an interrupted completion, then returns the heads still in
   * flight, oldest fetch first. The counter continues above the highest value found. A fresh
   * region (version 0) is initialised and has nothing to resubmit.
   */
  takeOver(usedRingIdx: number): number[] {
    const version = this.version;
    if (version === 0) {
      this.initialise(usedRingIdx);
      return [];
    }
    if (version !== INFLIGHT_VERSION) throw new InflightError(`inflight region version ${version} is not supported`);
    const descNum = this.view.getUint16(SPLIT_FIELDS.descNum, true);
    if (descNum !== this.queueSize)
      throw new InflightError(`inflight region holds ${descNum} entries, the ring has ${this.queueSize}`);
    const used = usedRingIdx & 0xffff;
    if (this.usedIdx !== used) {
      // Stopped between publishing a batch and recording it: that batch is no longer in flight.
      const batch = (used - this.usedIdx) & 0xffff;
      if (batch > this.queueSize)
        throw new InflightError(`inflight used_idx ${this.usedIdx} is ${batch} behind the ring's ${used}`);
      let head = this.lastBatchHead;
      for (let i = 0; i < batch; i++) {
        const e = this.entry(head);
        this.view.setUint8(e + SPLIT_FIELDS.desc.inflight, 0);
        head = this.view.getUint16(e + SPLIT_FIELDS.desc.next, true);
      }
      this.view.setUint16(SPLIT_FIELDS.usedIdx, used, true);
    }
    const pending: { head: number; counter: bigint }[] = [];
    let highest = -1n;
    for (let head = 0; head < this.queueSize; head++) {
      const counter = this.counterOf(head);
      if (counter > highest) highest = counter;
      const flag = this.view.getUint8(this.entry(head) + SPLIT_FIELDS.desc.inflight);
      if (flag === 1) pending.push({ head, counter });
      else if (flag !== 0) throw new InflightError(`inflight flag of head ${head} is ${flag}, not 0 or 1`);
    }
    this.counter = highest + 1n;
    pending.sort((a, b) => (a.counter < b.counter ? -1 : a.counter > b.counter ? 1 : a.head - b.head));
    return pending.map((p) => p.head);
  }
}

/** One descriptor as the packed region stores it. */
export interface PackedDescriptorCopy {
  addr: bigint;
  len: number;
  flags: number;
  id: number;
}

/** A request to resubmit from a packed region: its descriptors, as fetched. */
export interface PackedResubmit {
  /** Entry index of the head in the region. */
  entry: number;
  counter: bigint;
  descriptors: PackedDescriptorCopy[];
}

/** The flag bits that mark a packed descriptor available (VIRTQ_DESC_F_AVAIL / _USED). */
const PACKED_DESC_F_AVAIL = 1 << 7;
const PACKED_DESC_F_USED = 1 << 15;

/** A packed-ring queue region: a free list of entries, each holding a copy of one descriptor. */
export class PackedInflightRegion {
  private readonly view: DataView;
  private counter = 0n;

  constructor(
    buffer: ArrayBufferLike,
    offset: number,
    readonly queueSize: number,
  ) {
    checkQueueSize(queueSize);
    this.view = new DataView(buffer, offset, inflightRegionBytes(queueSize, true));
  }

  private entry(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.queueSize)
      throw new InflightError(`inflight entry ${index} is outside the queue (size ${this.queueSize})`);
    return PACKED_HEADER + index * DESC_STATE_PACKED_SIZE;
  }

  private u16(at: number): number {
    return this.view.getUint16(at, true);
  }

  private setU16(at: number, value: number): void {
    this.view.setUint16(at, value & 0xffff, true);
  }

  get version(): number {
    return this.u16(PACKED_FIELDS.version);
  }

  get freeHead(): number {
    return this.u16(PACKED_FIELDS.freeHead);
  }

  get usedIdx(): number {
    return this.u16(PACKED_FIELDS.usedIdx);
  }

  get usedWrapCounter(): boolean {
    return this.view.getUint8(PACKED_FIELDS.usedWrapCounter) !== 0;
  }

  isInflight(entry: number): boolean {
    return this.view.getUint8(this.entry(entry) + PACKED_FIELDS.desc.inflight) === 1;
  }

  /** A fresh region: free list 0 -> 1 -> ... , both wrap counters 1, used index `usedIdx`. */
  initialise(usedIdx = 0, usedWrap = true): void {
    const f = PACKED_FIELDS;
    this.view.setBigUint64(f.features, 0n, true);
    this.setU16(f.descNum, this.queueSize);
    for (let i = 0; i < this.queueSize; i++) this.setU16(this.entry(i) + f.desc.next, i + 1);
    this.setU16(f.freeHead, 0);
    this.setU16(f.oldFreeHead, 0);
    this.setU16(f.usedIdx, usedIdx);
    this.setU16(f.oldUsedIdx, usedIdx);
    this.view.setUint8(f.usedWrapCounter, usedWrap ? 1 : 0);
    this.view.setUint8(f.oldUsedWrapCounter, usedWrap ? 1 : 0);
    this.setU16(f.version, INFLIGHT_VERSION);
    this.counter = 0n;
  }

  /** One descriptor of a request was fetched (the spec's six fetch steps). Returns the head entry. */
  fetched(d: PackedDescriptorCopy, first: boolean, last: boolean): number {
    const f = PACKED_FIELDS;
    const headEntry = this.u16(f.oldFreeHead);
    const head = this.entry(headEntry);
    if (first) {
      this.setU16(head + f.desc.num, 0);
      this.view.setBigUint64(head + f.desc.counter, this.counter++, true);
      this.view.setUint8(head + f.desc.inflight, 1);
    }
    const free = this.entry(this.freeHead);
    if (last) this.setU16(head + f.desc.last, this.freeHead);
    this.setU16(head + f.desc.num, this.u16(head + f.desc.num) + 1);
    this.view.setBigUint64(free + f.desc.addr, d.addr, true);
    this.view.setUint32(free + f.desc.len, d.len, true);
    this.setU16(free + f.desc.flags, d.flags);
    this.setU16(free + f.desc.id, d.id);
    this.setU16(f.freeHead, this.u16(free + f.desc.next));
    if (last) this.setU16(f.oldFreeHead, this.freeHead);
    return headEntry;
  }

  /** Completion steps 1 and 2: returns the chains' entries to the free list, advances used_idx. */
  beginBatch(headEntries: readonly number[], ringSlotsUsed: number): void {
    const f = PACKED_FIELDS;
    for (const e of headEntries) {
      const head = this.entry(e);
      const last = this.entry(this.u16(head + f.desc.last));
      this.setU16(last + f.desc.next, this.freeHead);
      this.setU16(f.freeHead, e);
    }
    let used = this.usedIdx + ringSlotsUsed;
    let wrap = this.usedWrapCounter;
    if (used >= this.queueSize) {
      used -= this.queueSize;
      wrap = !wrap;
    }
    this.setU16(f.usedIdx, used);
    this.view.setUint8(f.usedWrapCounter, wrap ? 1 : 0);
  }

  /** Completion steps 4 and 5, after the used flags were written in the descriptor ring. */
  finishBatch(headEntries: readonly number[]): void {
    const f = PACKED_FIELDS;
    for (const e of headEntries) this.view.setUint8(this.entry(e) + f.desc.inflight, 0);
    this.commit();
  }

  private commit(): void {
    const f = PACKED_FIELDS;
    this.setU16(f.oldFreeHead, this.freeHead);
    this.setU16(f.oldUsedIdx, this.usedIdx);
    this.view.setUint8(f.oldUsedWrapCounter, this.view.getUint8(f.usedWrapCounter));
  }

  /**
   * Takeover after a restart. `ringFlagsAt(slot)` reads the flags of descriptor ring slot `slot`.
   * Finishes or rolls back an interrupted completion, clears the free list's flags and returns
   * the requests still in flight, oldest fetch first.
   */
  takeOver(ringFlagsAt: (slot: number) => number): PackedResubmit[] {
    const f = PACKED_FIELDS;
    const version = this.version;
    if (version === 0) {
      this.initialise();
      return [];
    }
    if (version !== INFLIGHT_VERSION) throw new InflightError(`inflight region version ${version} is not supported`);
    const descNum = this.u16(f.descNum);
    if (descNum !== this.queueSize)
      throw new InflightError(`inflight region holds ${descNum} entries, the ring has ${this.queueSize}`);
    const oldUsed = this.u16(f.oldUsedIdx);
    if (oldUsed >= this.queueSize) throw new InflightError(`inflight old_used_idx ${oldUsed} is outside the queue`);
    if (this.usedIdx !== oldUsed) {
      // The slot at old_used_idx still looks available unless the batch reached the driver.
      const wrap = this.view.getUint8(f.oldUsedWrapCounter) !== 0;
      const availFlags = wrap ? PACKED_DESC_F_AVAIL : PACKED_DESC_F_USED;
      const mask = PACKED_DESC_F_AVAIL | PACKED_DESC_F_USED;
      if ((ringFlagsAt(oldUsed) & mask) !== availFlags) this.commit();
    }
    this.setU16(f.freeHead, this.u16(f.oldFreeHead));
    this.setU16(f.usedIdx, this.u16(f.oldUsedIdx));
    this.view.setUint8(f.usedWrapCounter, this.view.getUint8(f.oldUsedWrapCounter));
    // Entries on the free list hold no request, whatever their flag says.
    const onFreeList = new Set<number>();
    for (let e = this.freeHead; e < this.queueSize && !onFreeList.has(e); e = this.u16(this.entry(e) + f.desc.next)) {
      onFreeList.add(e);
      this.view.setUint8(this.entry(e) + f.desc.inflight, 0);
    }
    const out: PackedResubmit[] = [];
    let highest = -1n;
    for (let e = 0; e < this.queueSize; e++) {
      const at = this.entry(e);
      const counter = this.view.getBigUint64(at + f.desc.counter, true);
      if (counter > highest) highest = counter;
      if (this.view.getUint8(at + f.desc.inflight) !== 1) continue;
      const num = this.u16(at + f.desc.num);
      if (num < 1 || num > this.queueSize) throw new InflightError(`inflight entry ${e} has a chain of ${num}`);
      // A chain's entries were taken from the free list in order: follow `next` from the head.
      const descriptors: PackedDescriptorCopy[] = [];
      let k = e;
      for (let i = 0; i < num; i++) {
        const d = this.entry(k);
        descriptors.push({
          addr: this.view.getBigUint64(d + f.desc.addr, true),
          len: this.view.getUint32(d + f.desc.len, true),
          flags: this.u16(d + f.desc.flags),
          id: this.u16(d + f.desc.id),
        });
        if (i < num - 1) k = this.u16(d + f.desc.next);
      }
      if (k !== this.u16(at + f.desc.last))
        throw new InflightError(`inflight entry ${e}: its chain does not end at its recorded last entry`);
      out.push({ entry: e, counter, descriptors });
    }
    this.counter = highest + 1n;
    out.sort((a, b) => (a.counter < b.counter ? -1 : a.counter > b.counter ? 1 : a.entry - b.entry));
    return out;
  }
}
