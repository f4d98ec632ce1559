// The split-pingpong workload (bench/WORKLOAD.md) on the public vring API.
// Plain JavaScript so that worker threads (which cannot load .ts on Node 20) can run it too.
// The caller passes the vring module, so this file works with the sources (tests) and with dist.
import { SPLIT_RING } from '@vhost-user/codec';

export const QUEUE_SIZE = 256;
export const MEM_SIZE = 4 * 1024 * 1024;
export const BATCH = 32;
export const AREAS = { desc: 0x0000, driverArea: 0x1000, deviceArea: 0x2000 };
const HEADER_BASE = 0x3000;
const HEADER_SIZE = 16;
const DATA_BASE = 0x4000;
const DATA_SIZE = 512;
const TWO_32 = 4294967296;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 16777619;

/** A fresh guest memory with the workload's single 4 MiB region at gpa 0. */
export function createGuest(vring) {
  const guest = vring.GuestMemory.create({ guestBytes: MEM_SIZE, scratchBytes: 1 << 20 });
  guest.setRegions([{ gpa: 0, size: MEM_SIZE, offset: guest.scratchEnd }]);
  return guest;
}

/** Zeroes the workload's region again (the workload re-initialises all state after its warm-up). */
export function resetGuest(guest) {
  guest.u8.fill(0, guest.scratchEnd, guest.scratchEnd + MEM_SIZE);
}

export function queueOptions(guest, layout, engine, batch) {
  return { memory: guest, layout, engine, queueSize: QUEUE_SIZE, batch, ...AREAS };
}

// Driver-private record per chain key (split: head descriptor; packed: buffer id), one Uint32Array
// with a stride of 4 words so that one chain's fields share a cache line.
const INFLIGHT_STRIDE = 4;
const SECTOR_LOW = 0;
const SECTOR_HIGH = 1;
const DATA_WORD = 2;

// The workload's own per-chain work, written once: building a request, checking a completion and
// serving a request. The batch-call sides and the fused-call sides below differ only in how
// they reach the queue.

/**
 * Builds requests (ChainFiller): the header in the buffer of the chain's id, the data buffer of
 * the tail descriptor (split) or of the id (packed: slots are not stable buffers). Chains are
 * filled in order, so the sector is a running counter (two u32 halves: no division).
 */
class RequestFiller {
  constructor(u32, inflight, base, split) {
    this.u32 = u32;
    this.inflight = inflight;
    this.headerWord0 = (base + HEADER_BASE) >>> 2;
    this.dataWord0 = (base + DATA_BASE) >>> 2;
    this.split = split;
    this.low = 0;
    this.high = 0;
    this.header = 0;
    this.data = 0;
  }

  fill(chain, id, descriptors, first) {
    const data = this.split ? descriptors[first + 1] : id;
    this.header = id;
    this.data = data;
    const low = this.low;
    const high = this.high;
    const u32 = this.u32;
    const hw = this.headerWord0 + id * (HEADER_SIZE >>> 2);
    u32[hw] = 0; // type = VIRTIO_BLK_T_IN
    u32[hw + 1] = 0; // reserved
    u32[hw + 2] = low;
    u32[hw + 3] = high;
    const f = id * INFLIGHT_STRIDE;
    const inflight = this.inflight;
    inflight[f + SECTOR_LOW] = low;
    inflight[f + SECTOR_HIGH] = high;
    inflight[f + DATA_WORD] = this.dataWord0 + data * (DATA_SIZE >>> 2);
    this.low = (low + 1) >>> 0;
    if (this.low === 0) this.high = high + 1;
  }

  address(chain, k, index) {
    // Split: the descriptor's own index names its buffer; packed: the chain's id does.
    if (this.split) return k === 0 ? HEADER_BASE + HEADER_SIZE * index : DATA_BASE + DATA_SIZE * index;
    return k === 0 ? HEADER_BASE + HEADER_SIZE * this.header : DATA_BASE + DATA_SIZE * this.data;
  }

  length(chain, k) {
    return k === 0 ? HEADER_SIZE : DATA_SIZE;
  }

  flags(chain, k) {
    return k === 0 ? 0 : SPLIT_RING.VIRTQ_DESC_F_WRITE;
  }
}

/** Checks a completion and folds it into the checksum (CompletionFolder; the hash is the accumulator). */
class CompletionChecker {
  constructor(u32, inflight) {
    this.u32 = u32;
    this.inflight = inflight;
    // A Float64Array, not a field: see PingpongDriver.
    this.sums = new Float64Array(1);
    this.errors = 0;
    this.count = 0;
  }

  complete(h, id, len) {
    let low = 0;
    let high = 0;
    if (len >= 8) {
      const inflight = this.inflight;
      const u32 = this.u32;
      const f = id * INFLIGHT_STRIDE;
      const w = inflight[f + DATA_WORD];
      low = u32[w];
      high = u32[w + 1];
      if (((low ^ inflight[f + SECTOR_LOW]) | (high ^ inflight[f + SECTOR_HIGH])) !== 0) this.errors++;
    }
    this.sums[0] += len + low + (high === 0 ? 0 : high * TWO_32);
    this.count++;
    h = Math.imul(h ^ len, FNV_PRIME);
    h = Math.imul(h ^ low, FNV_PRIME);
    return Math.imul(h ^ high, FNV_PRIME);
  }
}

/** Serves a request (ChainHandler): copies the header's sector into the data buffer. */
class BlockHandler {
  constructor(guest) {
    this.u32 = guest.u32;
    this.view = guest.view;
    this.errors = 0;
  }

  serve(id, headerAt, headerLength, dataAt, dataLength) {
    if (headerLength >= 16 && dataLength >= 8) {
      if (((headerAt | dataAt) & 3) === 0) {
        const u32 = this.u32;
        const hw = headerAt >>> 2;
        if (u32[hw] === 0) {
          const dw = dataAt >>> 2;
          u32[dw] = u32[hw + 2];
          u32[dw + 1] = u32[hw + 3];
          return 8;
        }
      } else {
        const v = this.view;
        if (v.getUint32(headerAt, true) === 0) {
          v.setUint32(dataAt, v.getUint32(headerAt + 8, true), true);
          v.setUint32(dataAt + 4, v.getUint32(headerAt + 12, true), true);
          return 8;
        }
      }
    }
    this.errors++;
    return 0;
  }
}

/**
 * Driver-private state on the batch calls: reserve, the buffer specs and publish; reclaim and a
 * pass over the completion records.
 */
export class PingpongDriver {
  constructor(vring, guest, layout, engine, batch = 128) {
    this.queue = new vring.VirtqueueDriver(queueOptions(guest, layout, engine, batch));
    this.u32 = guest.u32;
    const base = guest.scratchEnd;
    if ((base & 3) !== 0) throw new Error('guest region not 4-byte aligned');
    // Per key (split: head descriptor; packed: buffer id): sector sent and data buffer word.
    this.inflight = new Uint32Array(INFLIGHT_STRIDE * QUEUE_SIZE);
    this.submitted = 0;
    this.hash = FNV_OFFSET;
    this.filler = new RequestFiller(this.u32, this.inflight, base, layout === 'split');
    this.checker = new CompletionChecker(this.u32, this.inflight);
    // The constant parts of every request's two buffer specs are written once.
    const S = vring.BUFFER_SPEC;
    const words = S.size >>> 2;
    const specs = this.queue.specs;
    for (let p = 0; p + 1 < specs.length / words; p += 2) {
      specs[p * words + (S.addrHigh >>> 2)] = 0;
      specs[p * words + (S.length >>> 2)] = HEADER_SIZE;
      specs[p * words + (S.flags >>> 2)] = 0;
      specs[(p + 1) * words + (S.addrHigh >>> 2)] = 0;
      specs[(p + 1) * words + (S.length >>> 2)] = DATA_SIZE;
      specs[(p + 1) * words + (S.flags >>> 2)] = SPLIT_RING.VIRTQ_DESC_F_WRITE;
    }
    this.specWords = words;
    this.addrLow = S.addrLow >>> 2;
  }

  /** Submits one batch of min(32, left) requests if enough descriptors are free. Returns the count. */
  submit(total) {
    const b = Math.min(BATCH, total - this.submitted);
    if (b <= 0) return 0;
    const q = this.queue;
    if (q.reserve(b, 2) !== b) return 0;
    const filler = this.filler;
    const ids = q.chainIds;
    const descriptors = q.descriptors;
    const specs = q.specs;
    const tailSpec = this.specWords;
    for (let i = 0, first = 0, s = this.addrLow; i < b; i++, first += 2, s += 2 * tailSpec) {
      filler.fill(i, ids[i], descriptors, first);
      specs[s] = filler.address(i, 0, descriptors[first]);
      specs[s + tailSpec] = filler.address(i, 1, descriptors[first + 1]);
    }
    q.publish();
    this.submitted += b;
    return b;
  }

  /** Reclaims every completion the device published; checks and folds each into the checksum. */
  reclaim() {
    const q = this.queue;
    const n = q.reclaim();
    const out = q.completions;
    const checker = this.checker;
    let h = this.hash;
    for (let c = 0; c < 2 * n; c += 2) h = checker.complete(h, out[c], out[c + 1]);
    this.hash = h >>> 0;
    return n;
  }

  get completed() {
    return this.checker.count;
  }

  get sum() {
    return this.checker.sums[0];
  }

  /** Workload errors plus used elements the ring rejected. */
  get totalErrors() {
    return this.checker.errors + this.queue.errors;
  }
}

/** The same driver on the fused calls: submit(filler) and reclaimFold(checker). */
export class FusedDriver extends PingpongDriver {
  constructor(vring, guest, layout, engine, batch = BATCH) {
    super(vring, guest, layout, engine, batch);
  }

  submit(total) {
    const b = Math.min(BATCH, total - this.submitted);
    if (b <= 0) return 0;
    const n = this.queue.submit(b, 2, this.filler);
    this.submitted += n;
    return n;
  }

  reclaim() {
    const before = this.checker.count;
    this.hash = this.queue.reclaimFold(this.checker, this.hash) >>> 0;
    return this.checker.count - before;
  }
}

/**
 * Device-private state on the batch calls: pops (and validates) chains in batches until none is
 * available and serves each from its compact record (first readable = header, first writable =
 * data buffer); rejected chains keep used length 0.
 */
export class PingpongDevice {
  constructor(vring, guest, layout, engine, batch = BATCH) {
    this.queue = new vring.VirtqueueDevice(queueOptions(guest, layout, engine, batch));
    this.handler = new BlockHandler(guest);
    this.served = 0;
    this.batch = batch;
    const R = vring.COMPACT_RECORD;
    this.words = R.size >>> 2;
    if (
      R.id !== 0 ||
      R.reason !== 4 ||
      R.readOffset !== 8 ||
      R.readLength !== 12 ||
      R.writeOffset !== 16 ||
      R.writeLength !== 20 ||
      R.usedLength !== 28
    ) {
      throw new Error('COMPACT_RECORD layout changed: update PingpongDevice.pass');
    }
  }

  pass() {
    const q = this.queue;
    const rec = q.records;
    const words = this.words;
    const batch = this.batch;
    const handler = this.handler;
    let total = 0;
    for (;;) {
      const n = q.popCompact(batch);
      if (n === 0) break;
      for (let i = 0, r = 0; i < n; i++, r += words) {
        if (rec[r + 1] === 0)
          rec[r + 7] = handler.serve(rec[r], rec[r + 2] >>> 0, rec[r + 3] >>> 0, rec[r + 4] >>> 0, rec[r + 5] >>> 0);
      }
      q.pushCompact(n);
      total += n;
      // Fewer than asked: the pop saw everything published at its acquire of avail.idx.
      if (n < batch) break;
    }
    this.served += total;
    return total;
  }

  get errors() {
    return this.handler.errors;
  }

  /** Workload errors plus chains the ring rejected. */
  get totalErrors() {
    return this.handler.errors + this.queue.errors;
  }
}

/** The same device on the fused call serve(handler). */
export class FusedDevice extends PingpongDevice {
  /** One pass: every chain seen at one acquire of the available index. */
  pass() {
    const n = this.queue.serve(this.handler, QUEUE_SIZE);
    this.served += n;
    return n;
  }
}

/** Variant A: one thread loops submit one batch; one device pass; reclaim. */
export function runVariantA(driver, device, total) {
  while (driver.completed < total) {
    if (driver.submitted < total) driver.submit(total);
    device.pass();
    driver.reclaim();
  }
}
